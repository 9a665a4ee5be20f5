"""Card top-ups, saved cards and refunds through Stripe.

Stripe calls are made outside database transactions and row locks. The rows
they produce are written afterwards under the payment's row lock, so the
webhook for a payment and the browser's own request may both arrive and the
wallet is still credited once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import stripe
import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, User
from accounts.services import audit_record
from billing.models import UNITS_PER_CENT, BillingProfile, LedgerEntry, Payment, SavedCard
from billing.services.wallet import wallet_apply
from billing.stripe_client import object_id, stripe_client

logger = structlog.get_logger(__name__)


class PaymentError(Exception):
    """A payment or card operation failed. Its message is shown to the user."""


@dataclass(frozen=True)
class TopupResult:
    payment: Payment
    # Set when the card needs authentication (3-D Secure) in the browser before the payment completes.
    client_secret: str | None = None


def billing_profile_open(*, account_id: int) -> BillingProfile:
    profile, _ = BillingProfile.objects.get_or_create(account_id=account_id)
    return profile


def stripe_customer_ensure(*, account: Account) -> str:
    """Return the account's Stripe customer id, creating the customer on first use.

    Two first payments at once may both call Stripe. The idempotency key makes
    real Stripe return one customer for both, and the conditional UPDATE keeps
    the first stored id in any case.
    """
    profile = billing_profile_open(account_id=account.pk)
    if profile.stripe_customer_id:
        return profile.stripe_customer_id

    customer = stripe_client().v1.customers.create(
        params={"name": account.name, "metadata": {"m3o_account_id": str(account.pk)}},
        options={"idempotency_key": f"m3o-customer-{account.pk}"},
    )
    BillingProfile.objects.filter(pk=account.pk, stripe_customer_id__isnull=True).update(stripe_customer_id=customer.id)
    stored = BillingProfile.objects.values_list("stripe_customer_id", flat=True).get(pk=account.pk)
    logger.info("Stripe customer linked", account_id=account.pk, customer_id=stored)
    return str(stored)


def account_for_customer(customer_id: str) -> int | None:
    if not customer_id:
        return None
    return BillingProfile.objects.filter(stripe_customer_id=customer_id).values_list("account_id", flat=True).first()


def card_setup_start(*, account: Account) -> str:
    """Create a SetupIntent for a new card and return its client secret for Stripe.js."""
    customer_id = stripe_customer_ensure(account=account)
    intent = stripe_client().v1.setup_intents.create(
        params={
            "customer": customer_id,
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": {"m3o_account_id": str(account.pk)},
        }
    )
    return str(intent.client_secret)


def card_record(*, account_id: int, payment_method: dict[str, Any]) -> SavedCard:
    """Store or refresh the display details of a card attached to the account's customer."""
    card = payment_method.get("card") or {}
    saved, _ = SavedCard.objects.update_or_create(
        stripe_payment_method_id=payment_method["id"],
        defaults={
            "account_id": account_id,
            "brand": card.get("brand", ""),
            "last4": card.get("last4", ""),
            "exp_month": card.get("exp_month"),
            "exp_year": card.get("exp_year"),
        },
    )
    return saved


def card_forget(*, payment_method_id: str) -> bool:
    return bool(SavedCard.objects.filter(stripe_payment_method_id=payment_method_id).delete()[0])


def card_remove(*, card: SavedCard, actor: User | None) -> None:
    """Detach the card from the Stripe customer and forget it."""
    try:
        stripe_client().v1.payment_methods.detach(card.stripe_payment_method_id)
    except stripe.InvalidRequestError as exc:
        # Already detached in Stripe (e.g. from the Stripe dashboard): forgetting it here is still right.
        logger.warning("Card detach failed", account_id=card.account_id, card_id=card.pk, error=str(exc))
    with transaction.atomic():
        card_forget(payment_method_id=card.stripe_payment_method_id)
        audit_record(account=card.account, actor=actor, action="billing.card_removed", target=f"{card.brand} {card.last4}")
    logger.info("Card removed", account_id=card.account_id, card_id=card.pk)


def _payment_method_for_account(*, customer_id: str, payment_method_id: str) -> dict[str, Any]:
    """Fetch a payment method and make sure it belongs to the account's Stripe customer.

    Real Stripe attaches the card when the SetupIntent confirms; localstripe
    does not, so an unattached card is attached here.
    """
    client = stripe_client()
    try:
        method = client.v1.payment_methods.retrieve(payment_method_id).to_dict()
    except stripe.InvalidRequestError:
        raise PaymentError("That card was not found; enter it again.") from None
    owner = object_id(method.get("customer"))
    if not owner:
        method = client.v1.payment_methods.attach(payment_method_id, params={"customer": customer_id}).to_dict()
    elif owner != customer_id:
        logger.warning("Payment method of another customer rejected", payment_method_id=payment_method_id)
        raise PaymentError("That card was not found; enter it again.")
    return method


def topup_check_amount(amount_cents: int) -> None:
    minimum, maximum = settings.M3O_TOPUP_MIN_CENTS, settings.M3O_TOPUP_MAX_CENTS
    if not minimum <= amount_cents <= maximum:
        raise PaymentError(f"Enter an amount from ${minimum / 100:,.2f} to ${maximum / 100:,.2f}.")


def topup_start(
    *, account: Account, actor: User | None, amount_cents: int, payment_method_id: str, save_card: bool
) -> TopupResult:
    """Charge a card for ``amount_cents`` and credit the wallet when the charge succeeds.

    The card is a saved card or one just set up through a SetupIntent. The
    payment row is written before Stripe is called, so the webhook can find it
    by the id in the PaymentIntent's metadata even if it arrives first.
    """
    topup_check_amount(amount_cents)
    customer_id = stripe_customer_ensure(account=account)
    method = _payment_method_for_account(customer_id=customer_id, payment_method_id=payment_method_id)
    if save_card:
        card_record(account_id=account.pk, payment_method=method)

    try:
        payment, intent = payment_charge(
            account_id=account.pk,
            customer_id=customer_id,
            payment_method=method,
            amount_cents=amount_cents,
            actor=actor,
            idempotency_key=uuid.uuid4(),
        )
    except PaymentError:
        _detach_unless_saved(account_id=account.pk, payment_method_id=payment_method_id)
        raise

    payment = payment_apply_intent(payment_id=payment.pk, intent=intent)
    if payment.status == Payment.Status.REQUIRES_ACTION:
        return TopupResult(payment=payment, client_secret=intent["client_secret"])
    _detach_unless_saved(account_id=account.pk, payment_method_id=payment_method_id)
    return TopupResult(payment=payment)


def checkout_start(*, account: Account, actor: User | None, amount_cents: int, success_url: str, cancel_url: str) -> str:
    """Open a Stripe Checkout Session for a top-up of ``amount_cents``; return the hosted page's URL.

    Like a card top-up, the payment row is written first and its id goes into
    the PaymentIntent's metadata. Three things can then credit the wallet:
    the checkout.session.completed webhook, payment_intent.succeeded, and the
    payer's return to ``success_url``. The first to arrive credits it, and the
    others find the payment paid. ``success_url`` may contain Stripe's
    ``{CHECKOUT_SESSION_ID}`` placeholder.
    """
    topup_check_amount(amount_cents)
    customer_id = stripe_customer_ensure(account=account)
    idempotency_key = uuid.uuid4()
    payment = Payment.objects.create(
        account_id=account.pk,
        idempotency_key=idempotency_key,
        amount_cents=amount_cents,
        currency=settings.STRIPE_CURRENCY,
        created_by=actor,
    )
    metadata = {"m3o_account_id": str(account.pk), "m3o_payment_id": str(payment.pk)}
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "customer": customer_id,
                "client_reference_id": str(payment.pk),
                "payment_method_types": ["card"],
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": settings.STRIPE_CURRENCY,
                            "unit_amount": amount_cents,
                            "product_data": {"name": "M3O prepaid credit"},
                        },
                    }
                ],
                "metadata": metadata,
                "payment_intent_data": {"metadata": metadata},
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
            options={"idempotency_key": str(idempotency_key)},
        )
    except stripe.StripeError:
        payment_fail(payment_id=payment.pk, message="Stripe Checkout could not be opened.")
        raise
    Payment.objects.filter(pk=payment.pk).update(stripe_checkout_session_id=session.id)
    logger.info("Checkout started", payment_id=payment.pk, account_id=account.pk, session_id=session.id)
    return str(session.url)


def checkout_sync(*, payment: Payment) -> Payment:
    """Fetch the payment's Checkout Session from Stripe and apply it (when the payer comes back from Stripe)."""
    if not payment.stripe_checkout_session_id or payment.status in (Payment.Status.SUCCEEDED, Payment.Status.FAILED):
        return payment
    client = stripe_client()
    session = client.v1.checkout.sessions.retrieve(payment.stripe_checkout_session_id).to_dict()
    payment = checkout_session_apply(payment_id=payment.pk, session=session)
    if payment.status == Payment.Status.SUCCEEDED and payment.stripe_payment_intent_id and not payment.card_last4:
        # The card was typed on Stripe's page, so the receipt learns which one from the PaymentIntent.
        intent = client.v1.payment_intents.retrieve(
            payment.stripe_payment_intent_id, params={"expand": ["payment_method"]}
        ).to_dict()
        method = intent.get("payment_method")
        card = (method.get("card") if isinstance(method, dict) else None) or {}
        Payment.objects.filter(pk=payment.pk, card_last4="").update(
            card_brand=str(card.get("brand", ""))[:32], card_last4=str(card.get("last4", ""))[:4]
        )
        payment.refresh_from_db()
    return payment


def checkout_session_apply(*, payment_id: int, session: dict[str, Any]) -> Payment:
    """Move a Checkout payment to the state of its session, crediting the wallet once when it is paid.

    The credit has the same ledger reference as the one payment_intent.succeeded
    makes for the session's PaymentIntent, and both run under the payment's
    row lock, so the two can never both credit.
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.stripe_checkout_session_id not in (None, "", session["id"]):
            logger.error("Checkout session of another payment ignored", payment_id=payment_id, session_id=session["id"])
            return payment
        paid = session.get("status") == "complete" and session.get("payment_status") == "paid"
        # Money Stripe collected is credited even after the payment was marked failed: events arrive in any order.
        if payment.status == Payment.Status.SUCCEEDED or (payment.status == Payment.Status.FAILED and not paid):
            return payment

        if paid:
            intent_id = object_id(session.get("payment_intent"))
            if not intent_id:
                logger.error("Paid checkout session names no PaymentIntent", payment_id=payment_id, session_id=session["id"])
                return payment
            # The session names the PaymentIntent that paid, which refunds need; a declined attempt had another.
            payment.stripe_payment_intent_id = intent_id
            payment.stripe_checkout_session_id = session["id"]
            payment.save(update_fields=["stripe_payment_intent_id", "stripe_checkout_session_id"])
            paid = int(session.get("amount_total") or 0)
            _payment_credit(payment, {"id": intent_id, "amount": paid, "amount_received": paid})
        elif session.get("status") == "expired":
            _payment_mark_failed(payment, "The checkout page expired before the payment was made.")
    return payment


def payment_charge(
    *,
    account_id: int,
    customer_id: str,
    payment_method: dict[str, Any],
    amount_cents: int,
    actor: User | None,
    idempotency_key: uuid.UUID,
    off_session: bool = False,
) -> tuple[Payment, dict[str, Any]]:
    """Create the payment row and a confirmed PaymentIntent for it; return both.

    The same ``idempotency_key`` returns the same row and, from Stripe, the
    same PaymentIntent, so a retried task charges the card once. A declined
    card marks the payment failed and raises PaymentError with Stripe's
    message for the cardholder.
    """
    card = payment_method.get("card") or {}
    payment, _ = Payment.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "account_id": account_id,
            "amount_cents": amount_cents,
            "currency": settings.STRIPE_CURRENCY,
            "card_brand": card.get("brand", ""),
            "card_last4": card.get("last4", ""),
            "created_by": actor,
        },
    )
    params: dict[str, Any] = {
        "amount": amount_cents,
        "currency": settings.STRIPE_CURRENCY,
        "customer": customer_id,
        "payment_method": payment_method["id"],
        "payment_method_types": ["card"],
        "confirm": True,
        "metadata": {"m3o_account_id": str(account_id), "m3o_payment_id": str(payment.pk)},
    }
    if off_session:
        params["off_session"] = True
    try:
        intent = stripe_client().v1.payment_intents.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": str(idempotency_key)},
        ).to_dict()
    except stripe.CardError as exc:
        message = exc.user_message or "The card was declined."
        payment_fail(payment_id=payment.pk, message=message)
        raise PaymentError(message) from None
    return payment, intent


def _detach_unless_saved(*, account_id: int, payment_method_id: str) -> None:
    """Detach a card used for one payment only, once that payment has finished."""
    if not payment_method_id:
        return
    if SavedCard.objects.filter(account_id=account_id, stripe_payment_method_id=payment_method_id).exists():
        return
    try:
        stripe_client().v1.payment_methods.detach(payment_method_id)
    except stripe.StripeError as exc:
        logger.warning("Card detach failed", payment_method_id=payment_method_id, error=str(exc))


def payment_sync(*, payment: Payment) -> Payment:
    """Fetch the payment's PaymentIntent from Stripe and apply its status (after 3-D Secure in the browser)."""
    if not payment.stripe_payment_intent_id or payment.status in (Payment.Status.SUCCEEDED, Payment.Status.FAILED):
        return payment
    intent = stripe_client().v1.payment_intents.retrieve(payment.stripe_payment_intent_id).to_dict()
    payment = payment_apply_intent(payment_id=payment.pk, intent=intent)
    if payment.status != Payment.Status.REQUIRES_ACTION:
        _detach_unless_saved(account_id=payment.account_id, payment_method_id=object_id(intent.get("payment_method")))
    return payment


def payment_apply_intent(*, payment_id: int, intent: dict[str, Any]) -> Payment:
    """Move a payment to the status of its PaymentIntent, crediting the wallet once on success."""
    status = intent.get("status")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if not payment.stripe_payment_intent_id:
            payment.stripe_payment_intent_id = intent["id"]
            payment.save(update_fields=["stripe_payment_intent_id"])
        if payment.status == Payment.Status.SUCCEEDED:
            charge_missing = not payment.stripe_charge_id and intent.get("latest_charge")
            if charge_missing and payment.stripe_payment_intent_id == intent["id"]:
                # Credited from a Checkout Session, which names no charge: keep the charge for refunds.
                payment.stripe_charge_id = object_id(intent.get("latest_charge"))
                payment.save(update_fields=["stripe_charge_id"])
            return payment
        # Money Stripe collected is credited even after the payment was marked failed: events arrive in any order.
        if payment.status == Payment.Status.FAILED and status != "succeeded":
            return payment

        if status == "succeeded":
            _payment_credit(payment, intent)
        elif status == "requires_action":
            payment.status = Payment.Status.REQUIRES_ACTION
            payment.save(update_fields=["status"])
        elif status in ("canceled", "requires_payment_method"):
            error = intent.get("last_payment_error") or {}
            _payment_mark_failed(payment, error.get("message") or "The payment was not completed.")
    return payment


def _payment_credit(payment: Payment, intent: dict[str, Any]) -> None:
    """Credit the wallet for a succeeded payment; the caller holds the payment's row lock."""
    amount_cents = int(intent.get("amount_received") or intent["amount"])
    if amount_cents != payment.amount_cents:
        # Trust what Stripe collected; a mismatch means someone changed the PaymentIntent.
        logger.error("Payment amount differs from Stripe", payment_id=payment.pk, amount_cents=amount_cents)
        payment.amount_cents = amount_cents
    wallet_apply(
        account_id=payment.account_id,
        kind=LedgerEntry.Kind.TOPUP,
        amount_units=amount_cents * UNITS_PER_CENT,
        reference=f"topup:{intent['id']}",
        description=f"Card payment {payment.receipt_number}",
    )
    payment.status = Payment.Status.SUCCEEDED
    payment.succeeded_at = timezone.now()
    payment.stripe_charge_id = object_id(intent.get("latest_charge"))
    payment.failure_message = ""
    payment.save(update_fields=["status", "succeeded_at", "stripe_charge_id", "amount_cents", "failure_message"])
    logger.info("Payment succeeded", payment_id=payment.pk, account_id=payment.account_id, amount_cents=amount_cents)


def _payment_mark_failed(payment: Payment, message: str) -> None:
    payment.status = Payment.Status.FAILED
    payment.failure_message = message[:300]
    payment.save(update_fields=["status", "failure_message"])
    logger.info("Payment failed", payment_id=payment.pk, account_id=payment.account_id)


def payment_fail(*, payment_id: int, message: str) -> None:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status != Payment.Status.SUCCEEDED:
            _payment_mark_failed(payment, message)


def payment_refund_record(*, payment_id: int, refunded_cents_total: int) -> int:
    """Take back from the wallet what Stripe refunded beyond what is recorded; return the cents taken.

    ``refunded_cents_total`` is Stripe's cumulative ``amount_refunded`` for the
    charge, so the same refund reported twice (by the operator's request and
    by the webhook) is taken once. Where the balance no longer covers it, the
    balance goes to zero and the rest becomes debt.
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        delta = min(refunded_cents_total, payment.amount_cents) - payment.refunded_cents
        if delta <= 0:
            return 0
        wallet_apply(
            account_id=payment.account_id,
            kind=LedgerEntry.Kind.REFUND,
            amount_units=-delta * UNITS_PER_CENT,
            reference=f"refund:{payment.stripe_payment_intent_id}:{refunded_cents_total}",
            description=f"Refund of {payment.receipt_number}",
            allow_debt=True,
        )
        payment.refunded_cents += delta
        payment.save(update_fields=["refunded_cents"])
    logger.info("Payment refunded", payment_id=payment.pk, account_id=payment.account_id, refunded_cents=delta)
    return delta


def payment_refund(*, payment: Payment, amount_cents: int, actor: User | None, reason: str) -> int:
    """Refund part or all of a payment to the card through Stripe and take it back from the wallet."""
    if payment.status != Payment.Status.SUCCEEDED:
        raise PaymentError("Only a succeeded payment can be refunded.")
    refundable = payment.amount_cents - payment.refunded_cents
    if not 0 < amount_cents <= refundable:
        raise PaymentError(f"Enter an amount from 1 to {refundable} cents.")

    client = stripe_client()
    client.v1.refunds.create(
        params={
            "payment_intent": str(payment.stripe_payment_intent_id),
            "amount": amount_cents,
            "metadata": {"m3o_payment_id": str(payment.pk), "reason": reason[:200]},
        },
        options={"idempotency_key": f"m3o-refund-{payment.pk}-{payment.refunded_cents}-{amount_cents}"},
    )
    charge = client.v1.charges.retrieve(payment.stripe_charge_id) if payment.stripe_charge_id else None
    refunded_total = int(charge.amount_refunded) if charge else payment.refunded_cents + amount_cents
    with transaction.atomic():
        taken = payment_refund_record(payment_id=payment.pk, refunded_cents_total=refunded_total)
        audit_record(
            account=payment.account,
            actor=actor,
            action="billing.refund",
            target=payment.receipt_number,
            amount_cents=amount_cents,
            reason=reason,
        )
    return taken
