from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from billing.models import FreeUsage, Hold, LedgerEntry, UsageDaily, UsageEvent, Wallet


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money and usage rows change only through billing services, never by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["account", "balance_units", "updated_at"]
    search_fields = ["account__name"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "kind", "amount_units", "reference", "description"]
    list_filter = ["kind"]
    search_fields = ["reference", "wallet__account__name"]
    date_hierarchy = "created_at"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "request_id", "amount_units"]


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "service", "endpoint", "status_code", "cost_units", "latency_ms", "source"]
    list_filter = ["service", "status_code", "source"]
    search_fields = ["request_id", "account__name"]
    date_hierarchy = "created_at"


@admin.register(UsageDaily)
class UsageDailyAdmin(ReadOnlyAdmin):
    list_display = ["day", "account", "service", "endpoint", "calls", "errors", "cost_units"]
    list_filter = ["service", "day"]
    search_fields = ["account__name"]


@admin.register(FreeUsage)
class FreeUsageAdmin(ReadOnlyAdmin):
    list_display = ["month", "account", "scope", "used"]
    list_filter = ["month", "scope"]
    search_fields = ["account__name"]
