"""Stripe webhook events: one small handler per event type.

``stripe_event_process`` records the event id and runs its handler in one
transaction. The id is unique in the database, so a redelivered event, even
one delivered twice at the same instant, is processed once: the second insert
waits for the first transaction and then fails. Handlers use only the event's
data and make no Stripe calls, because they run inside that transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from django.db import IntegrityError, transaction

from billing.models import BillingProfile, Dispute, Payment, SavedCard, StripeEvent
from billing.services.payments import (
    account_for_customer,
    card_forget,
    card_record,
    checkout_session_apply,
    payment_apply_intent,
    payment_refund_record,
)
from billing.services.plans import subscription_end, subscription_payment_record
from billing.stripe_client import object_id

logger = structlog.get_logger(__name__)

# A handler takes the event's data.object and returns the account it concerns, or None when unknown.
Handler = Callable[[dict[str, Any]], int | None]
HANDLERS: dict[str, Handler] = {}


def handles(event_type: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[event_type] = handler
        return handler

    return register


def stripe_event_process(*, event: dict[str, Any]) -> bool:
    """Process a verified event once; return False when its id was processed before."""
    event_id, event_type = event["id"], event["type"]
    log = logger.bind(event_id=event_id, event_type=event_type)
    with transaction.atomic():
        try:
            with transaction.atomic():
                object_id = str(event["data"]["object"].get("id") or "")[:255]
                record = StripeEvent.objects.create(event_id=event_id, type=event_type, object_id=object_id)
        except IntegrityError:
            log.info("Stripe event already processed")
            return False

        handler = HANDLERS.get(event_type)
        if handler is None:
            log.info("Stripe event ignored: no handler for its type")
            return True
        account_id = handler(event["data"]["object"])
        if account_id is None:
            log.warning("Stripe event for an unknown customer acknowledged")
            return True
        record.account_id = account_id
        record.save(update_fields=["account"])
    log.info("Stripe event processed", account_id=account_id)
    return True


def _payment_for_intent(intent: dict[str, Any]) -> Payment | None:
    payment_id = (intent.get("metadata") or {}).get("m3o_payment_id")
    if payment_id and str(payment_id).isdigit():
        payment = Payment.objects.filter(pk=int(payment_id)).first()
        if payment and payment.stripe_payment_intent_id in (None, "", intent["id"]):
            return payment
    return Payment.objects.filter(stripe_payment_intent_id=intent["id"]).first()


def _payment_for_charge(charge: dict[str, Any]) -> Payment | None:
    intent_id = object_id(charge.get("payment_intent"))
    if intent_id:
        payment = Payment.objects.filter(stripe_payment_intent_id=intent_id).first()
        if payment:
            return payment
    charge_id = object_id(charge.get("id") if charge.get("object") == "charge" else charge.get("charge"))
    return Payment.objects.filter(stripe_charge_id=charge_id).first() if charge_id else None


@handles("payment_intent.succeeded")
def on_payment_intent_succeeded(intent: dict[str, Any]) -> int | None:
    """Credit a paid top-up to the wallet with the amount received, once per PaymentIntent."""
    payment = _payment_for_intent(intent)
    if payment is None:
        return None
    payment_apply_intent(payment_id=payment.pk, intent=intent)
    return payment.account_id


@handles("payment_intent.payment_failed")
def on_payment_intent_failed(intent: dict[str, Any]) -> int | None:
    """Mark a declined or unauthenticated card top-up failed, leaving the wallet unchanged.

    A Checkout top-up stays open: the payer may try another card on Stripe's
    page, and only checkout.session.expired ends it.
    """
    payment = _payment_for_intent(intent)
    if payment is None:
        return None
    if payment.stripe_checkout_session_id:
        logger.info("Declined attempt on a Checkout page ignored", payment_id=payment.pk, intent_id=intent["id"])
        return payment.account_id
    payment_apply_intent(payment_id=payment.pk, intent={**intent, "status": "requires_payment_method"})
    return payment.account_id


def _payment_for_session(session: dict[str, Any]) -> Payment | None:
    payment_id = (session.get("metadata") or {}).get("m3o_payment_id")
    if payment_id and str(payment_id).isdigit():
        payment = Payment.objects.filter(pk=int(payment_id)).first()
        if payment and payment.stripe_checkout_session_id in (None, "", session["id"]):
            return payment
    return Payment.objects.filter(stripe_checkout_session_id=session["id"]).first()


@handles("checkout.session.completed")
def on_checkout_session_completed(session: dict[str, Any]) -> int | None:
    """Credit a top-up paid through Stripe Checkout once; payment_intent.succeeded for it then changes nothing."""
    payment = _payment_for_session(session)
    if payment is None:
        return None
    checkout_session_apply(payment_id=payment.pk, session=session)
    return payment.account_id


@handles("checkout.session.expired")
def on_checkout_session_expired(session: dict[str, Any]) -> int | None:
    """Mark a Checkout top-up whose page expired unpaid as failed, leaving the wallet unchanged."""
    payment = _payment_for_session(session)
    if payment is None:
        return None
    checkout_session_apply(payment_id=payment.pk, session=session)
    return payment.account_id


@handles("charge.refunded")
def on_charge_refunded(charge: dict[str, Any]) -> int | None:
    """Take a refunded amount back from the wallet once, leaving debt where the balance is short."""
    payment = _payment_for_charge(charge)
    if payment is None:
        return None
    payment_refund_record(payment_id=payment.pk, refunded_cents_total=int(charge.get("amount_refunded") or 0))
    return payment.account_id


@handles("charge.dispute.created")
def on_charge_dispute_created(dispute: dict[str, Any]) -> int | None:
    """Record a dispute and suspend auto top-up, so that the disputed card is not charged again."""
    payment = _payment_for_charge(dispute)
    if payment is None:
        return None
    Dispute.objects.get_or_create(
        stripe_dispute_id=dispute["id"],
        defaults={
            "account_id": payment.account_id,
            "payment": payment,
            "amount_cents": int(dispute.get("amount") or 0),
            "reason": str(dispute.get("reason") or "")[:64],
            "status": str(dispute.get("status") or "")[:64],
        },
    )
    BillingProfile.objects.update_or_create(
        account_id=payment.account_id,
        defaults={
            "auto_topup_suspended": True,
            "auto_topup_suspended_reason": f"Payment {payment.receipt_number} is disputed.",
        },
    )
    logger.warning("Payment disputed", account_id=payment.account_id, payment_id=payment.pk, dispute_id=dispute["id"])
    return payment.account_id


@handles("payment_method.attached")
def on_payment_method_attached(method: dict[str, Any]) -> int | None:
    """Add a card attached to the account's Stripe customer to its saved cards, unless it was detached since.

    Stripe never attaches a detached PaymentMethod again, so a detach already
    processed means this attach event arrived late and the card is gone.
    """
    account_id = account_for_customer(object_id(method.get("customer")))
    if account_id is None:
        return None
    if StripeEvent.objects.filter(object_id=method["id"], type="payment_method.detached").exists():
        logger.info("Attach of a detached card ignored", account_id=account_id, payment_method_id=method["id"])
        return account_id
    card_record(account_id=account_id, payment_method=method)
    return account_id


@handles("payment_method.detached")
def on_payment_method_detached(method: dict[str, Any]) -> int | None:
    """Remove a card detached from its customer (here or in the Stripe dashboard) from the saved cards."""
    account_id = SavedCard.objects.filter(stripe_payment_method_id=method["id"]).values_list("account_id", flat=True).first()
    if account_id is None:
        return None
    card_forget(payment_method_id=method["id"])
    return account_id


@handles("invoice.payment_succeeded")
def on_invoice_payment_succeeded(invoice: dict[str, Any]) -> int | None:
    """Record a paid plan invoice in the ledger once, as a card payment in and the plan's price out."""
    account_id = account_for_customer(object_id(invoice.get("customer")))
    if account_id is None or not invoice.get("subscription"):
        return account_id
    subscription_payment_record(account_id=account_id, invoice=invoice)
    return account_id


@handles("customer.subscription.deleted")
def on_subscription_deleted(subscription: dict[str, Any]) -> int | None:
    """Move an account whose Stripe subscription ended (cancelled or unpaid) back to the default plan."""
    return subscription_end(stripe_subscription_id=subscription["id"])
