"""Dashboard home, the billing page, card top-ups, receipts, invoices and the Stripe webhook."""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal, InvalidOperation

import stripe
import structlog
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import with_membership
from accounts.models import Membership
from billing.forms import SpendingCapForm
from billing.invoice_pdf import invoice_pdf_render
from billing.metering import month_spent_units
from m3o_web.metrics import WEBHOOK_FAILURES
from m3o_web.money import dollars
from billing.models import UNITS_PER_CENT, BalanceAlert, Invoice, InvoiceLine, Payment, Plan, SavedCard
from billing.selectors import (
    auto_topups_for_account,
    balance_alerts_for_account,
    invoice_time_zone,
    invoices_for_account,
    ledger_for_account,
    payments_for_account,
    plan_limits,
    plans_offered,
    recent_calls,
    saved_cards_for_account,
    wallet_for_account,
)
from billing.services.invoices import billing_profile_set_time_zone
from billing.services.payments import (
    PaymentError,
    billing_profile_open,
    card_remove,
    card_setup_start,
    checkout_start,
    checkout_sync,
    payment_sync,
    topup_start,
)
from billing.services.plans import plan_subscribe
from billing.services.spending_cap import spending_cap_set
from billing.services.thresholds import SettingsError, auto_topup_configure, balance_alert_add, balance_alert_label
from billing.stripe_client import stripe_event_verify
from billing.templatetags.money import usd
from billing.stripe_events import stripe_event_process
from billing.usage_dashboard import dashboard_figures, getting_started_steps
from billing.usage_selectors import recent_errors

logger = structlog.get_logger(__name__)

# Stripe object ids: a prefix and letters, digits and underscores.
STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")

PAYING_ROLES = {Membership.Role.OWNER, Membership.Role.ADMIN, Membership.Role.BILLING}


@require_GET
@with_membership
def dashboard(request: HttpRequest, membership: Membership) -> HttpResponse:
    account = membership.account
    if request.htmx:
        return render(request, "billing/dashboard.html#recent-calls", {"calls": recent_calls(account, limit=10)})
    wallet = wallet_for_account(account)
    context = {
        "wallet": wallet,
        "spending_cap_units": wallet.spending_cap_units,
        **dashboard_figures(account_id=account.pk, time_zone=invoice_time_zone(account), now=timezone.now()),
        "recent_errors": recent_errors(account.pk, limit=10),
        "calls": recent_calls(account, limit=10),
        "steps": getting_started_steps(account=account, user=request.user),  # type: ignore[arg-type]
    }
    return render(request, "billing/dashboard.html", context)


@require_GET
@with_membership
def billing(request: HttpRequest, membership: Membership) -> HttpResponse:
    account = membership.account
    profile = billing_profile_open(account_id=account.pk)
    context = {
        "wallet": wallet_for_account(account),
        "entries": ledger_for_account(account, limit=100),
        "payments": payments_for_account(account, limit=50),
        "cards": saved_cards_for_account(account),
        "can_pay": membership.role in PAYING_ROLES,
        "topup_min": settings.M3O_TOPUP_MIN_CENTS / 100,
        "topup_max": settings.M3O_TOPUP_MAX_CENTS / 100,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "checkout_enabled": settings.M3O_STRIPE_CHECKOUT,
        "invoices": invoices_for_account(account, limit=36),
        "profile": profile,
        # Plain numbers for the form inputs, which parse_amount_cents reads back.
        "auto_threshold_dollars": f"{dollars(profile.auto_topup_threshold_units):.2f}",
        "auto_amount_dollars": f"{Decimal(profile.auto_topup_amount_cents) / 100:.2f}",
        "alerts": balance_alerts_for_account(account),
        "auto_topups": auto_topups_for_account(account, limit=5),
        "plans": plans_offered(),
        "limits": plan_limits(account.pk),
        "time_zone": invoice_time_zone(account),
        "time_zones": sorted(zoneinfo.available_timezones()),
    }
    return render(request, "billing/billing.html", context)


def _redirect_unless_paying(request: HttpRequest, membership: Membership, action: str) -> HttpResponse | None:
    if membership.role in PAYING_ROLES:
        return None
    messages.error(request, f"Only the account's owners, admins and billing members can {action}.")
    return redirect("billing")


@require_POST
@with_membership
def time_zone_update(request: HttpRequest, membership: Membership) -> HttpResponse:
    if rejected := _redirect_unless_paying(request, membership, "change the invoice time zone"):
        return rejected
    name = request.POST.get("time_zone", "")
    try:
        billing_profile_set_time_zone(account=membership.account, time_zone=name)
    except ValueError:
        messages.error(request, f"Unknown time zone {name[:64]!r}: choose one from the list.")
        return redirect("billing")
    messages.success(request, f"Invoice months now start at midnight {name} time, from the next invoice on.")
    return redirect("billing")


@require_POST
@with_membership
def auto_topup_update(request: HttpRequest, membership: Membership) -> HttpResponse:
    if rejected := _redirect_unless_paying(request, membership, "change auto top-up"):
        return rejected
    card = request.POST.get("card", "")
    max_per_month = request.POST.get("max_per_month", "").strip()
    if not max_per_month.isdigit():
        messages.error(request, f"Invalid maximum {max_per_month[:20]!r}: enter a whole number of top-ups a month.")
        return redirect("billing")
    try:
        auto_topup_configure(
            account=membership.account,
            actor=request.user,  # type: ignore[arg-type]
            enabled=request.POST.get("enabled") == "on",
            threshold_units=parse_amount_cents(request.POST.get("threshold", "")) * UNITS_PER_CENT,
            amount_cents=parse_amount_cents(request.POST.get("amount", "")),
            max_per_month=int(max_per_month),
            card_id=int(card) if card.isdigit() else None,
        )
    except (SettingsError, PaymentError) as exc:
        messages.error(request, str(exc))
        return redirect("billing")
    messages.success(request, "Auto top-up settings saved.")
    return redirect("billing")


@require_POST
@with_membership
def plan_change(request: HttpRequest, membership: Membership) -> HttpResponse:
    if rejected := _redirect_unless_paying(request, membership, "change the plan"):
        return rejected
    plan_id = request.POST.get("plan", "")
    if not plan_id.isdigit():
        raise Http404
    plan = get_object_or_404(Plan, pk=int(plan_id), is_active=True)
    try:
        plan_subscribe(account=membership.account, plan=plan, actor=request.user)  # type: ignore[arg-type]
    except PaymentError as exc:
        messages.error(request, str(exc))
        return redirect("billing")
    except stripe.StripeError as exc:
        logger.error("Plan change failed at Stripe", account_id=membership.account_id, plan_id=plan.pk, error=str(exc))
        messages.error(request, "The payment provider is unavailable; the plan did not change. Try again in a minute.")
        return redirect("billing")
    messages.success(request, f"You are now on the {plan.name} plan.")
    return redirect("billing")


@require_POST
@with_membership
def alert_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    if rejected := _redirect_unless_paying(request, membership, "set balance alerts"):
        return rejected
    raw = request.POST.get("threshold", "")
    try:
        if request.POST.get("unit", "usd") == "percent":
            if not raw.strip().isdigit():
                raise SettingsError(f"Invalid percentage {raw[:20]!r}: enter a whole number from 1 to 99.")
            alert = balance_alert_add(account=membership.account, percent_of_last_topup=int(raw.strip()))
        else:
            threshold_cents = parse_amount_cents(raw)
            alert = balance_alert_add(account=membership.account, threshold_units=threshold_cents * UNITS_PER_CENT)
    except (SettingsError, PaymentError) as exc:
        messages.error(request, str(exc))
        return redirect("billing")
    messages.success(request, f"You will get an email when the balance falls below {balance_alert_label(alert)}.")
    return redirect("billing")


@require_POST
@with_membership
def alert_remove(request: HttpRequest, membership: Membership, alert_id: int) -> HttpResponse:
    if membership.role not in PAYING_ROLES:
        raise Http404
    get_object_or_404(BalanceAlert, pk=alert_id, account=membership.account).delete()
    messages.success(request, "Balance alert removed.")
    return redirect("billing")


@require_GET
@with_membership
def invoice_detail(request: HttpRequest, membership: Membership, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("account"), pk=invoice_id, account=membership.account)
    lines = list(invoice.lines.all())
    context = {
        "invoice": invoice,
        "usage_lines": [line for line in lines if line.kind == InvoiceLine.Kind.USAGE],
        "credit_lines": [line for line in lines if line.kind == InvoiceLine.Kind.CREDIT],
    }
    return render(request, "billing/invoice.html", context)


@require_GET
@with_membership
def invoice_pdf(request: HttpRequest, membership: Membership, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("account"), pk=invoice_id, account=membership.account)
    response = HttpResponse(invoice_pdf_render(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


def _forbidden_unless_paying(membership: Membership) -> JsonResponse | None:
    if membership.role in PAYING_ROLES:
        return None
    return JsonResponse({"error": "Only the account's owners, admins and billing members can manage payments."}, status=403)


def parse_amount_cents(raw: str) -> int:
    """Parse a dollar amount such as "10" or "12.50" into cents."""
    try:
        amount = Decimal(raw.strip())
    except (InvalidOperation, AttributeError):
        raise PaymentError(f"Invalid amount {raw[:20]!r}: enter dollars, e.g. 25 or 12.50.") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise PaymentError(f"Invalid amount {raw[:20]!r}: enter dollars with at most two decimals.")
    return int(amount * 100)


@require_POST
@with_membership
def card_setup(request: HttpRequest, membership: Membership) -> HttpResponse:
    if forbidden := _forbidden_unless_paying(membership):
        return forbidden
    try:
        client_secret = card_setup_start(account=membership.account)
    except stripe.StripeError as exc:
        logger.error("SetupIntent creation failed", account_id=membership.account_id, error=str(exc))
        return JsonResponse({"error": "The payment provider is unavailable; try again in a minute."}, status=502)
    return JsonResponse({"client_secret": client_secret})


@require_POST
@with_membership
def topup(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Start a top-up: JSON for billing.js, a redirect for a plain form post with a saved card."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    if forbidden := _forbidden_unless_paying(membership):
        return forbidden
    try:
        result = topup_start(
            account=membership.account,
            actor=request.user,  # type: ignore[arg-type]
            amount_cents=parse_amount_cents(request.POST.get("amount", "")),
            payment_method_id=request.POST.get("payment_method", ""),
            save_card=request.POST.get("save_card") == "on",
        )
    except PaymentError as exc:
        if wants_json:
            return JsonResponse({"error": str(exc)}, status=400)
        messages.error(request, str(exc))
        return redirect("billing")
    except stripe.StripeError as exc:
        logger.error("Top-up failed at Stripe", account_id=membership.account_id, error=str(exc))
        message = "The payment provider is unavailable; you were not charged. Try again in a minute."
        if wants_json:
            return JsonResponse({"error": message}, status=502)
        messages.error(request, message)
        return redirect("billing")

    payment = result.payment
    receipt_url = reverse("billing_receipt", args=[payment.pk])
    if wants_json:
        return JsonResponse(
            {
                "status": payment.status,
                "client_secret": result.client_secret,
                "sync_url": reverse("billing_payment_sync", args=[payment.pk]),
                "receipt_url": receipt_url,
            }
        )
    return redirect(receipt_url)


@require_POST
@with_membership
def checkout(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Start a top-up on Stripe Checkout's hosted page, where the operator has enabled it."""
    if not settings.M3O_STRIPE_CHECKOUT:
        raise Http404
    if rejected := _redirect_unless_paying(request, membership, "add funds"):
        return rejected
    try:
        amount_cents = parse_amount_cents(request.POST.get("amount", ""))
        url = checkout_start(
            account=membership.account,
            actor=request.user,  # type: ignore[arg-type]
            amount_cents=amount_cents,
            # Each payment's own return page; Stripe fills in the session id.
            success_url=request.build_absolute_uri(reverse("billing_checkout_return")) + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=request.build_absolute_uri(reverse("billing")),
        )
    except PaymentError as exc:
        messages.error(request, str(exc))
        return redirect("billing")
    except stripe.StripeError as exc:
        logger.error("Checkout failed at Stripe", account_id=membership.account_id, error=str(exc))
        messages.error(request, "The payment provider is unavailable; you were not charged. Try again in a minute.")
        return redirect("billing")
    return redirect(url)


@require_GET
@with_membership
def checkout_return(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Apply the Checkout Session Stripe sends the payer back with, then redirect to the receipt."""
    session_id = request.GET.get("session_id", "")
    if not STRIPE_ID.fullmatch(session_id):
        raise Http404
    payment = get_object_or_404(Payment, stripe_checkout_session_id=session_id, account=membership.account)
    try:
        payment = checkout_sync(payment=payment)
    except stripe.StripeError as exc:
        # The webhook will credit the payment; the receipt shows it as pending until then.
        logger.warning("Checkout sync failed at Stripe", payment_id=payment.pk, error=str(exc))
    return redirect("billing_receipt", payment.pk)


@require_POST
@with_membership
def payment_refresh(request: HttpRequest, membership: Membership, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=payment_id, account=membership.account)
    payment = payment_sync(payment=payment)
    return JsonResponse({"status": payment.status, "receipt_url": reverse("billing_receipt", args=[payment.pk])})


@require_POST
@with_membership
def card_delete(request: HttpRequest, membership: Membership, card_id: int) -> HttpResponse:
    if membership.role not in PAYING_ROLES:
        raise Http404
    card = get_object_or_404(SavedCard, pk=card_id, account=membership.account)
    card_remove(card=card, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, f"The card ending in {card.last4} was removed.")
    return redirect("billing")


@require_GET
@with_membership
def receipt(request: HttpRequest, membership: Membership, payment_id: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=payment_id, account=membership.account)
    return render(request, "billing/receipt.html", {"payment": payment, "account": membership.account})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Receive a Stripe event. 400 for a bad signature, a stale timestamp or a malformed body."""
    try:
        event = stripe_event_verify(payload=request.body, signature_header=request.headers.get("Stripe-Signature", ""))
    except stripe.SignatureVerificationError:
        logger.warning("Stripe webhook rejected: invalid signature or stale timestamp")
        WEBHOOK_FAILURES.labels("signature").inc()
        return HttpResponse("Invalid signature.", status=400)
    except ValueError:
        logger.warning("Stripe webhook rejected: malformed body")
        WEBHOOK_FAILURES.labels("malformed").inc()
        return HttpResponse("Malformed body.", status=400)
    stripe_event_process(event=event)
    return HttpResponse(status=200)


@require_http_methods(["GET", "POST"])
@with_membership
def spending_cap(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Show the monthly spending cap and this month's charges; set or clear the cap."""
    account = membership.account
    wallet = wallet_for_account(account)
    form = SpendingCapForm(initial={"cap": dollars(wallet.spending_cap_units)} if wallet.spending_cap_units else None)
    if request.method == "POST":
        if rejected := _redirect_unless_paying(request, membership, "change the spending cap"):
            return rejected
        if "clear" in request.POST:
            spending_cap_set(account=account, cap_units=None, actor=request.user)
            messages.success(request, "Spending cap cleared: calls are limited only by the balance.")
            return redirect("billing_spending_cap")
        form = SpendingCapForm(request.POST)
        if form.is_valid():
            spending_cap_set(account=account, cap_units=form.cap_units, actor=request.user)
            messages.success(request, f"Spending cap set to {usd(form.cap_units)} a month.")
            return redirect("billing_spending_cap")
    context = {
        "wallet": wallet,
        "form": form,
        "spent_units": month_spent_units(account.pk),
        "can_pay": membership.role in PAYING_ROLES,
    }
    return render(request, "billing/spending_cap.html", context, status=400 if form.errors else 200)
