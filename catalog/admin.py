from __future__ import annotations

from django.contrib import admin

from catalog.models import Endpoint, Service


class EndpointInline(admin.StackedInline):
    model = Endpoint
    extra = 0
    fields = ["name", "description", "price_units", "free_quota", "position", "request_schema", "response_schema", "examples"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category", "status", "backend", "updated_at"]
    list_filter = ["status", "backend", "category"]
    search_fields = ["name", "slug", "tagline"]
    inlines = [EndpointInline]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["__str__", "price_units", "free_quota"]
    list_filter = ["service"]
    search_fields = ["name", "service__slug"]
    list_editable = ["price_units", "free_quota"]
