"""Operator admin for the catalog: services, endpoints, prices and upstream settings."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseModelFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from catalog import admin_forms
from catalog.models import Category, Endpoint, EndpointPrice, Service, UpstreamConfig
from catalog.pricing import price_change_preview
from catalog.selectors import endpoints_with_prices
from m3o_web.admin import ReadOnlyAdminMixin
from catalog.services import (
    endpoint_price_schedule,
    operator_fields_record,
    service_status_change,
    upstream_credential_set,
)


def _price_link(endpoint: Endpoint) -> str:
    if endpoint.pk is None:
        return "—"
    url = reverse("admin:catalog_endpoint_price", args=[endpoint.pk])
    return format_html('{} units · <a href="{}">Change price</a>', endpoint.price_units, url)


class EndpointInline(admin.StackedInline):
    model = Endpoint
    form = admin_forms.EndpointInlineForm
    formset = admin_forms.EndpointInlineFormSet
    extra = 0
    fields = [
        ("name", "position", "streaming"),
        "description",
        ("price_units", "current_price"),
        "free_quota",
        ("upstream_method", "upstream_path"),
        "details",
    ]
    readonly_fields = ["current_price", "details"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        return endpoints_with_prices().select_related("service")

    @admin.display(description="Current price")
    def current_price(self, endpoint: Endpoint) -> str:
        return _price_link(endpoint)

    @admin.display(description="Schemas and examples")
    def details(self, endpoint: Endpoint) -> str:
        if endpoint.pk is None:
            return "Save first, then edit schemas and examples on the endpoint's page."
        url = reverse("admin:catalog_endpoint_change", args=[endpoint.pk])
        return format_html('<a href="{}">Edit schemas and examples</a>', url)


class UpstreamConfigInline(admin.StackedInline):
    model = UpstreamConfig
    form = admin_forms.UpstreamConfigForm
    formset = admin_forms.UpstreamConfigFormSet
    extra = 0
    max_num = 1
    can_delete = False
    verbose_name = "upstream HTTP API"
    fields = [
        "base_url",
        ("credential_placement", "credential_name", "credential_prefix"),
        ("credential", "credential_clear"),
        ("connect_timeout_ms", "read_timeout_ms"),
    ]

    def get_extra(self, request: HttpRequest, obj: Service | None = None, **kwargs: Any) -> int:
        has_upstream = obj is not None and UpstreamConfig.objects.filter(service=obj).exists()
        return 0 if has_upstream else 1


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


def _status_action(status: str, label: str) -> Any:
    def action(modeladmin: ServiceAdmin, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        changed = sum(service_status_change(service=s, status=status, changed_by=request.user) for s in queryset)
        modeladmin.message_user(request, f"{changed} service(s) {label}.", messages.SUCCESS)

    action.__name__ = f"make_{status}"
    return admin.action(description=f"{label.capitalize()} selected services")(action)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = admin_forms.ServiceAdminForm
    list_display = ["name", "slug", "category", "status", "backend", "updated_at"]
    list_filter = ["status", "backend", "category"]
    search_fields = ["name", "slug", "tagline"]
    list_select_related = ["category"]
    inlines = [EndpointInline, UpstreamConfigInline]
    actions = [
        _status_action(Service.Status.PUBLISHED, "published"),
        _status_action(Service.Status.DRAFT, "unpublished"),
        _status_action(Service.Status.DEPRECATED, "deprecated"),
    ]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # Built-in services add themselves from code; operators add upstream ones.
        return {"backend": Service.Backend.UPSTREAM, **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request: HttpRequest, obj: Service | None = None) -> list[str]:
        # The slug is the public API path and the backend decides what runs a call.
        return ["slug", "backend"] if obj and obj.backend == Service.Backend.BUILTIN else []

    def save_model(self, request: HttpRequest, obj: Service, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            operator_fields_record(instance=obj, changed=form.changed_data)

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseModelFormSet, change: bool) -> None:
        if formset.model is Endpoint:
            self._save_endpoints(request, formset)
        elif formset.model is UpstreamConfig:
            self._save_upstream(formset)
        else:
            super().save_formset(request, form, formset, change)

    def _save_endpoints(self, request: HttpRequest, formset: BaseModelFormSet) -> None:
        changed_forms = {id(form): (form.instance.pk is None, form) for form in formset.forms}
        formset.save()
        for is_new, endpoint_form in changed_forms.values():
            endpoint = endpoint_form.instance
            if endpoint.pk is None or not endpoint_form.has_changed():
                continue
            if is_new:
                endpoint_price_schedule(
                    endpoint=endpoint,
                    price_units=endpoint_form.cleaned_data["price_units"],
                    effective_from=timezone.now(),
                    created_by=request.user,
                    note="First price.",
                )
            else:
                operator_fields_record(instance=endpoint, changed=endpoint_form.changed_data)

    def _save_upstream(self, formset: BaseModelFormSet) -> None:
        formset.save()
        for upstream_form in formset.forms:
            config = upstream_form.instance
            if config.pk is None or not upstream_form.has_changed():
                continue
            credential = upstream_form.cleaned_data.get("credential", "")
            if credential:
                upstream_credential_set(config=config, credential=credential)
            elif upstream_form.cleaned_data.get("credential_clear"):
                upstream_credential_set(config=config, credential="")


class EndpointPriceInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The price history, read-only: prices change through Change price, which adds a row."""

    model = EndpointPrice
    extra = 0
    fields = ["effective_from", "price_units", "source", "note", "created_by", "created_at"]
    readonly_fields = fields
    ordering = ["-effective_from"]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = admin_forms.EndpointAdminForm
    list_display = ["__str__", "current_price", "free_quota", "streaming"]
    list_filter = ["service"]
    search_fields = ["name", "service__slug"]
    inlines = [EndpointPriceInline]
    readonly_fields = ["current_price"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        return endpoints_with_prices().select_related("service")

    def get_readonly_fields(self, request: HttpRequest, obj: Endpoint | None = None) -> list[str]:
        if obj and obj.service.backend == Service.Backend.BUILTIN:
            # Code owns what the handler depends on; see catalog.services.service_sync_builtin.
            return ["current_price", "service", "name", "request_schema", "response_schema", "streaming",
                    "upstream_method", "upstream_path"]
        return ["current_price"]

    @admin.display(description="Current price")
    def current_price(self, endpoint: Endpoint) -> str:
        return _price_link(endpoint)

    def save_model(self, request: HttpRequest, obj: Endpoint, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            operator_fields_record(instance=obj, changed=form.changed_data)
        elif not obj.prices.exists():
            endpoint_price_schedule(
                endpoint=obj, price_units=0, effective_from=timezone.now(), created_by=request.user,
                note="Free until a price is set.",
            )

    def get_urls(self) -> list[URLPattern]:
        price_view = self.admin_site.admin_view(self.price_change_view)
        return [path("<int:endpoint_id>/price/", price_view, name="catalog_endpoint_price"), *super().get_urls()]

    def price_change_view(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        """Schedule a new price, after showing what last month's calls would have cost at it."""
        endpoint = get_object_or_404(endpoints_with_prices().select_related("service"), pk=endpoint_id)
        if not self.has_change_permission(request, endpoint):
            return HttpResponse("You may not change prices.", status=403)

        form = admin_forms.PriceChangeForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if "confirm" in request.POST:
                try:
                    endpoint_price_schedule(
                        endpoint=endpoint,
                        price_units=data["price_units"],
                        effective_from=data["effective_from"],
                        created_by=request.user,
                        note=data["note"],
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    self.message_user(request, f"New price of {endpoint} scheduled.", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:catalog_endpoint_change", args=[endpoint.pk]))
            if form.is_valid():
                preview = price_change_preview(endpoint=endpoint, price_units=data["price_units"], now=timezone.now())

        context = {
            **self.admin_site.each_context(request),
            "title": f"Change the price of {endpoint}",
            "opts": self.model._meta,
            "original": endpoint,
            "endpoint": endpoint,
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/catalog/endpoint/price_change.html", context)
