from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from billing.forms import RefundForm, WalletCreditForm
from billing.models import (
    AutoTopup,
    BalanceAlert,
    BillingProfile,
    Dispute,
    FreeUsage,
    Hold,
    Invoice,
    LedgerEntry,
    Payment,
    Plan,
    SavedCard,
    StripeEvent,
    Subscription,
    UsageDaily,
    UsageEvent,
    Wallet,
)
from billing.selectors import ledger_with_running_balance
from billing.usage_selectors import (
    accounts_near_cap,
    platform_daily,
    top_accounts_platform,
    top_services_platform,
    usage_rollup_status,
)
from m3o_web.admin import ReadOnlyAdminMixin
from billing.services import BalanceTooLow
from billing.services.operations import reconcile_all, wallet_credit_by_operator
from billing.services.payments import PaymentError, payment_refund


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Money and usage rows change only through billing services, never by hand."""


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["account", "balance_units", "debt_units", "updated_at", "operator_links"]
    search_fields = ["account__name"]

    @admin.display(description="Operator tools")
    def operator_links(self, wallet: Wallet) -> str:
        return format_html(
            '<a href="{}">Balance history</a> · <a href="{}">Grant or adjust</a>',
            reverse("admin:billing_wallet_history", args=[wallet.pk]),
            reverse("admin:billing_wallet_credit", args=[wallet.pk]),
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("reconcile/", view(self.reconcile_view), name="billing_wallet_reconcile"),
            path("<int:account_id>/history/", view(self.history_view), name="billing_wallet_history"),
            path("<int:account_id>/credit/", view(self.credit_view), name="billing_wallet_credit"),
            *super().get_urls(),
        ]

    def history_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        wallet = get_object_or_404(Wallet.objects.select_related("account"), pk=account_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Balance history of {wallet.account}",
            "wallet": wallet,
            "history": ledger_with_running_balance(account_id, limit=500),
        }
        return TemplateResponse(request, "admin/billing/wallet_history.html", context)

    def credit_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        if not request.user.has_perm("billing.change_wallet"):  # type: ignore[union-attr]
            messages.error(request, "Granting credit needs the billing.change_wallet permission.")
            return redirect("admin:billing_wallet_changelist")
        wallet = get_object_or_404(Wallet.objects.select_related("account"), pk=account_id)
        form = WalletCreditForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                wallet_credit_by_operator(
                    account=wallet.account,
                    actor=request.user,  # type: ignore[arg-type]
                    kind=form.cleaned_data["kind"],
                    amount_units=form.amount_units,
                    reason=form.cleaned_data["reason"],
                    reference=form.cleaned_data["reference"],
                )
            except BalanceTooLow as exc:
                form.add_error("amount", str(exc))
            else:
                messages.success(request, f"The balance of {wallet.account} changed by {form.amount_units} units.")
                return redirect("admin:billing_wallet_history", account_id)
        context = {**self.admin_site.each_context(request), "title": f"Grant or adjust credit for {wallet.account}", "form": form, "wallet": wallet}
        return TemplateResponse(request, "admin/billing/form.html", context)

    def reconcile_view(self, request: HttpRequest) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Reconcile report: wallets whose balance differs from their ledger sum",
            "mismatched": reconcile_all(),
        }
        return TemplateResponse(request, "admin/billing/reconcile.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "kind", "amount_units", "reference", "description"]
    list_filter = ["kind"]
    search_fields = ["reference", "wallet__account__name"]
    date_hierarchy = "created_at"


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "amount_cents", "status", "refunded_cents", "card_last4", "refund_link"]
    list_filter = ["status"]
    search_fields = ["stripe_payment_intent_id", "stripe_charge_id", "account__name"]
    date_hierarchy = "created_at"

    @admin.display(description="Refund")
    def refund_link(self, payment: Payment) -> str:
        if payment.status != Payment.Status.SUCCEEDED or payment.refunded_cents >= payment.amount_cents:
            return ""
        return format_html('<a href="{}">Refund</a>', reverse("admin:billing_payment_refund", args=[payment.pk]))

    def get_urls(self) -> list[URLPattern]:
        return [
            path("<int:payment_id>/refund/", self.admin_site.admin_view(self.refund_view), name="billing_payment_refund"),
            *super().get_urls(),
        ]

    def refund_view(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        if not request.user.has_perm("billing.change_payment"):  # type: ignore[union-attr]
            messages.error(request, "Refunding needs the billing.change_payment permission.")
            return redirect("admin:billing_payment_changelist")
        payment = get_object_or_404(Payment.objects.select_related("account"), pk=payment_id)
        refundable = (payment.amount_cents - payment.refunded_cents) / 100
        form = RefundForm(request.POST or None, initial={"amount": f"{refundable:.2f}"})
        if request.method == "POST" and form.is_valid():
            try:
                payment_refund(
                    payment=payment,
                    amount_cents=form.amount_cents,
                    actor=request.user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"],
                )
            except PaymentError as exc:
                form.add_error("amount", str(exc))
            else:
                messages.success(request, f"Refunded ${form.amount_cents / 100:.2f} of {payment.receipt_number}.")
                return redirect("admin:billing_payment_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund {payment.receipt_number} (${refundable:.2f} refundable)",
            "form": form,
        }
        return TemplateResponse(request, "admin/billing/form.html", context)


@admin.register(BillingProfile)
class BillingProfileAdmin(ReadOnlyAdmin):
    list_display = ["account", "stripe_customer_id", "auto_topup_suspended", "auto_topup_suspended_reason"]
    search_fields = ["account__name", "stripe_customer_id"]


@admin.register(SavedCard)
class SavedCardAdmin(ReadOnlyAdmin):
    list_display = ["account", "brand", "last4", "exp_month", "exp_year", "created_at"]
    search_fields = ["account__name", "stripe_payment_method_id"]


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "payment", "amount_cents", "reason", "status"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id", "account"]
    list_filter = ["type"]
    search_fields = ["event_id"]


@admin.register(AutoTopup)
class AutoTopupAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "amount_cents", "status", "failure_message", "payment"]
    list_filter = ["status"]
    search_fields = ["account__name"]


@admin.register(BalanceAlert)
class BalanceAlertAdmin(ReadOnlyAdmin):
    list_display = ["account", "threshold_units", "percent_of_last_topup", "armed", "last_sent_at"]
    search_fields = ["account__name"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "account", "month", "time_zone", "usage_units", "total_cents", "issued_at", "emailed_at"]
    list_filter = ["month"]
    search_fields = ["number", "account__name"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Plans are defined here by operators. A price change creates a new Stripe plan for new subscriptions."""

    list_display = ["name", "slug", "monthly_price_cents", "included_free_calls", "rate_limit_per_minute", "storage_cap_mb", "max_rows_per_service", "is_active", "is_default"]
    list_editable = ["is_active"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["stripe_plan_id"]

    def save_model(self, request: HttpRequest, obj: Plan, form: Any, change: bool) -> None:
        if change and "monthly_price_cents" in form.changed_data:
            obj.stripe_plan_id = ""  # the next subscription creates a Stripe plan at the new price
        super().save_model(request, obj, form, change)


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["account", "plan", "status", "stripe_subscription_id", "updated_at"]
    list_filter = ["plan", "status"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "request_id", "amount_units"]


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyAdmin):
    # Counting millions of events for the paginator would make every page slow.
    show_full_result_count = False
    list_select_related = ["account"]
    list_display = ["created_at", "account", "service", "endpoint", "status_code", "cost_units", "latency_ms", "source"]
    list_filter = ["service", "status_code", "source"]
    search_fields = ["request_id", "account__name"]
    date_hierarchy = "created_at"


@admin.register(UsageDaily)
class UsageDailyAdmin(ReadOnlyAdmin):
    list_display = ["day", "account", "key_id", "service", "endpoint", "status_class", "calls", "errors", "cost_units"]
    list_filter = ["service", "status_class", "day"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    show_full_result_count = False

    def get_urls(self) -> list[URLPattern]:
        return [
            path("overview/", self.admin_site.admin_view(self.overview_view), name="billing_usage_overview"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "usage_overview": True})

    def overview_view(self, request: HttpRequest) -> HttpResponse:
        """Calls and revenue per day, trending services and accounts, accounts near their caps, the roll-up lag."""
        today = timezone.now().astimezone(dt.UTC).date()
        week_start = today - dt.timedelta(days=6)
        page = request.GET.get("page", "1")
        page_number = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
        per_page = 25
        accounts = top_accounts_platform(
            first_day=week_start, last_day=today, offset=(page_number - 1) * per_page, limit=per_page + 1
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Usage overview",
            "rollup": usage_rollup_status(),
            "days": platform_daily(first_day=today - dt.timedelta(days=29), last_day=today),
            "services": top_services_platform(first_day=week_start, last_day=today, limit=10),
            "accounts": accounts[:per_page],
            "page_number": page_number,
            "has_next": len(accounts) > per_page,
            "rank_offset": (page_number - 1) * per_page,
            "near_cap": accounts_near_cap(month_start=today.replace(day=1), at_least_percent=80, limit=50),
            "week_start": week_start,
            "today": today,
        }
        return TemplateResponse(request, "admin/billing/usage_overview.html", context)


@admin.register(FreeUsage)
class FreeUsageAdmin(ReadOnlyAdmin):
    list_display = ["month", "account", "scope", "used"]
    list_filter = ["month", "scope"]
    search_fields = ["account__name"]
