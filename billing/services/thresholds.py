"""Reactions to a low balance: automatic top-ups with a saved card, and balance alert emails.

Both are checked by one periodic task (billing.tasks.balance_thresholds_check),
not on the call path, so they react within the task's interval.
"""

from __future__ import annotations

import datetime as dt
import uuid

import stripe
import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account, User
from accounts.services import audit_record
from billing.models import AutoTopup, BalanceAlert, BillingProfile, LedgerEntry, Payment, SavedCard, Wallet
from billing.selectors import billing_contact_emails
from billing.services.payments import PaymentError, payment_apply_intent, payment_charge, topup_check_amount
from billing.templatetags.money import usd

logger = structlog.get_logger(__name__)


class SettingsError(Exception):
    """Invalid auto top-up or alert settings. Its message is shown to the user."""


# --- Auto top-up -----------------------------------------------------------


def auto_topup_configure(
    *,
    account: Account,
    actor: User | None,
    enabled: bool,
    threshold_units: int,
    amount_cents: int,
    max_per_month: int,
    card_id: int | None,
) -> BillingProfile:
    """Save the auto top-up settings; turning it on again lifts a suspension after a dispute."""
    try:
        topup_check_amount(amount_cents)
    except PaymentError as exc:
        raise SettingsError(str(exc)) from None
    if threshold_units <= 0:
        raise SettingsError("Enter a threshold above $0.")
    if not 1 <= max_per_month <= 31:
        raise SettingsError("Enter a maximum of 1 to 31 top-ups a month.")
    card = None
    if card_id is not None:
        card = SavedCard.objects.filter(pk=card_id, account=account).first()
        if card is None:
            raise SettingsError("That card is not one of this account's saved cards.")
    if enabled and card is None and not SavedCard.objects.filter(account=account).exists():
        raise SettingsError("Save a card first: add funds once with a new card and keep it saved.")

    with transaction.atomic():
        profile, _ = BillingProfile.objects.select_for_update().get_or_create(account=account)
        profile.auto_topup_enabled = enabled
        profile.auto_topup_threshold_units = threshold_units
        profile.auto_topup_amount_cents = amount_cents
        profile.auto_topup_max_per_month = max_per_month
        profile.auto_topup_card = card
        if enabled:
            profile.auto_topup_suspended = False
            profile.auto_topup_suspended_reason = ""
        profile.save()
        audit_record(
            account=account,
            actor=actor,
            action="billing.auto_topup_configured",
            enabled=enabled,
            threshold_units=threshold_units,
            amount_cents=amount_cents,
            max_per_month=max_per_month,
        )
    return profile


def auto_topups_start_due(*, now: dt.datetime) -> list[int]:
    """Queue a top-up for each account below its threshold, within its monthly maximum; return their ids.

    An account gets no new attempt while one is pending (a partial unique
    index enforces it under concurrency), nor within
    M3O_AUTO_TOPUP_RETRY_AFTER_SECONDS of a failed one.
    """
    month_start = now.astimezone(dt.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    failed_since = now - dt.timedelta(seconds=settings.M3O_AUTO_TOPUP_RETRY_AFTER_SECONDS)
    due = BillingProfile.objects.filter(
        auto_topup_enabled=True,
        auto_topup_suspended=False,
        account__wallet__balance_units__lt=F("auto_topup_threshold_units"),
    ).values_list("account_id", "auto_topup_amount_cents", "auto_topup_max_per_month")

    started = []
    for account_id, amount_cents, max_per_month in due:
        attempts = AutoTopup.objects.filter(account_id=account_id)
        used = attempts.filter(
            created_at__gte=month_start, status__in=[AutoTopup.Status.PENDING, AutoTopup.Status.SUCCEEDED]
        ).count()
        if used >= max_per_month:
            continue
        if attempts.filter(status=AutoTopup.Status.FAILED, created_at__gte=failed_since).exists():
            continue
        try:
            with transaction.atomic():
                attempt = AutoTopup.objects.create(
                    account_id=account_id, idempotency_key=uuid.uuid4(), amount_cents=amount_cents, created_at=now
                )
                transaction.on_commit(lambda attempt_id=attempt.pk: _queue_charge(attempt_id))
        except IntegrityError:
            continue  # another check queued one first
        logger.info("Auto top-up queued", account_id=account_id, auto_topup_id=attempt.pk, amount_cents=amount_cents)
        started.append(attempt.pk)
    return started


def _queue_charge(auto_topup_id: int) -> None:
    from billing.tasks import auto_topup_run

    auto_topup_run.delay(auto_topup_id)


def auto_topup_charge(*, auto_topup_id: int) -> str:
    """Charge the saved card for a queued auto top-up; return its status afterwards.

    Safe to run twice: a finished attempt is left alone, and the attempt's
    idempotency key makes a repeated charge return the same PaymentIntent.
    Stripe connection errors propagate so that the task retries with backoff.
    """
    attempt = AutoTopup.objects.select_related("account").get(pk=auto_topup_id)
    if attempt.status != AutoTopup.Status.PENDING:
        return attempt.status
    profile = BillingProfile.objects.get(pk=attempt.account_id)
    if not profile.auto_topup_enabled or profile.auto_topup_suspended:
        return auto_topup_finish(auto_topup_id=attempt.pk, succeeded=False, message="Auto top-up was turned off.", notify=False)
    card = profile.auto_topup_card or SavedCard.objects.filter(account_id=attempt.account_id).order_by("created_at", "id").first()
    if card is None or not profile.stripe_customer_id:
        return auto_topup_finish(auto_topup_id=attempt.pk, succeeded=False, message="No saved card to charge.")

    method = {"id": card.stripe_payment_method_id, "card": {"brand": card.brand, "last4": card.last4}}
    try:
        payment, intent = payment_charge(
            account_id=attempt.account_id,
            customer_id=profile.stripe_customer_id,
            payment_method=method,
            amount_cents=attempt.amount_cents,
            actor=None,
            idempotency_key=attempt.idempotency_key,
            off_session=True,
        )
    except PaymentError as exc:
        return auto_topup_finish(auto_topup_id=attempt.pk, succeeded=False, message=str(exc))
    AutoTopup.objects.filter(pk=attempt.pk).update(payment=payment)

    payment = payment_apply_intent(payment_id=payment.pk, intent=intent)
    if payment.status == Payment.Status.SUCCEEDED:
        return auto_topup_finish(auto_topup_id=attempt.pk, succeeded=True)
    if payment.status == Payment.Status.REQUIRES_ACTION:
        message = "The card needs the cardholder's authentication. Add funds on the billing page instead."
        return auto_topup_finish(auto_topup_id=attempt.pk, succeeded=False, message=message)
    return auto_topup_finish(auto_topup_id=attempt.pk, succeeded=False, message=payment.failure_message or "The payment failed.")


def auto_topup_finish(*, auto_topup_id: int, succeeded: bool, message: str = "", notify: bool = True) -> str:
    """Close an attempt once; a failure is emailed to the account's owners and billing members."""
    status = AutoTopup.Status.SUCCEEDED if succeeded else AutoTopup.Status.FAILED
    closed = AutoTopup.objects.filter(pk=auto_topup_id, status=AutoTopup.Status.PENDING).update(
        status=status, failure_message=message[:300], finished_at=timezone.now()
    )
    attempt = AutoTopup.objects.get(pk=auto_topup_id)
    if not closed:
        return attempt.status
    log = logger.bind(auto_topup_id=auto_topup_id, account_id=attempt.account_id)
    if succeeded:
        log.info("Auto top-up succeeded", amount_cents=attempt.amount_cents)
        return status
    log.warning("Auto top-up failed", reason=message)
    recipients = billing_contact_emails(attempt.account_id)
    if notify and recipients:
        send_mail(
            "[M3O] Automatic top-up failed",
            f"An automatic top-up of ${attempt.amount_cents / 100:,.2f} failed: {message}\n\n"
            f"Calls fail with 402 once the balance runs out. Check your card or add funds at {settings.SITE_URL}/billing/.\n",
            None,
            recipients,
        )
    return status


# --- Balance alerts ----------------------------------------------------------


def balance_alert_add(
    *, account: Account, threshold_units: int | None = None, percent_of_last_topup: int | None = None
) -> BalanceAlert:
    """Add an alert below an amount or below a percentage of the last top-up.

    It is armed only if the balance is at or above the threshold now, so it
    fires on a crossing, not at once.
    """
    if (threshold_units is None) == (percent_of_last_topup is None):
        raise SettingsError("Enter either an amount or a percentage of the last top-up.")
    if threshold_units is not None and threshold_units <= 0:
        raise SettingsError("Enter a threshold above $0.")
    if percent_of_last_topup is not None and not 1 <= percent_of_last_topup <= 99:
        raise SettingsError("Enter a percentage of the last top-up from 1 to 99.")

    balance = Wallet.objects.filter(pk=account.pk).values_list("balance_units", flat=True).first() or 0
    threshold = threshold_units
    if percent_of_last_topup is not None:
        last_topup = last_topup_units(account_id=account.pk)
        threshold = last_topup * percent_of_last_topup // 100 if last_topup is not None else None
    armed = threshold is None or balance >= threshold
    alert, created = BalanceAlert.objects.get_or_create(
        account=account,
        threshold_units=threshold_units,
        percent_of_last_topup=percent_of_last_topup,
        defaults={"armed": armed},
    )
    if not created:
        raise SettingsError(f"There is already an alert at {balance_alert_label(alert)}.")
    return alert


def balance_alert_label(alert: BalanceAlert) -> str:
    if alert.percent_of_last_topup is not None:
        return f"{alert.percent_of_last_topup}% of the last top-up"
    return usd(alert.threshold_units or 0)


def last_topup_units(*, account_id: int) -> int | None:
    """Return the amount of the account's latest top-up (a card payment credited), or None before its first."""
    return (
        LedgerEntry.objects.filter(wallet_id=account_id, kind=LedgerEntry.Kind.TOPUP)
        .order_by("-created_at", "-id")
        .values_list("amount_units", flat=True)
        .first()
    )


def _alerts_with_threshold() -> QuerySet[BalanceAlert]:
    """Alerts annotated with ``effective_units``, their threshold now; NULL for a percentage before any top-up."""
    last_topup = (
        LedgerEntry.objects.filter(wallet_id=OuterRef("account_id"), kind=LedgerEntry.Kind.TOPUP)
        .order_by("-created_at", "-id")
        .values("amount_units")[:1]
    )
    of_last_topup = ExpressionWrapper(
        Subquery(last_topup) * F("percent_of_last_topup") / 100, output_field=BigIntegerField()
    )
    return BalanceAlert.objects.annotate(effective_units=Coalesce(F("threshold_units"), of_last_topup))


def balance_alerts_check() -> int:
    """Email each alert whose balance went below its threshold, once per crossing; re-arm the others.

    The conditional UPDATE on ``armed`` claims each crossing, so two checks at
    once send one email. Returns the number of emails sent.
    """
    sent = 0
    below = _alerts_with_threshold().filter(armed=True, account__wallet__balance_units__lt=F("effective_units"))
    for alert in below.only("id", "account_id", "threshold_units", "percent_of_last_topup"):
        if not BalanceAlert.objects.filter(pk=alert.pk, armed=True).update(armed=False, last_sent_at=timezone.now()):
            continue
        recipients = billing_contact_emails(alert.account_id)
        balance = Wallet.objects.values_list("balance_units", flat=True).get(pk=alert.account_id)
        label = balance_alert_label(alert)
        if alert.percent_of_last_topup is not None:
            label = f"{label} ({usd(alert.effective_units)})"
        if recipients:
            send_mail(
                f"[M3O] Balance below {balance_alert_label(alert)}",
                f"Your M3O balance is {usd(balance)}, below your alert at {label}.\n\n"
                f"Add funds at {settings.SITE_URL}/billing/ to keep your API calls working.\n",
                None,
                recipients,
            )
            sent += 1
        logger.info("Balance alert sent", alert_id=alert.pk, account_id=alert.account_id, balance_units=balance)
    rearm = _alerts_with_threshold().filter(armed=False, account__wallet__balance_units__gte=F("effective_units"))
    BalanceAlert.objects.filter(pk__in=rearm.values("pk")).update(armed=True)
    return sent


def stripe_error_is_transient(exc: stripe.StripeError) -> bool:
    return isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError))
