"""The Stripe client, pointed at STRIPE_API_BASE (localstripe on loopback unless configured).

Every Stripe call in billing goes through ``stripe_client()``, so tests and the
embedded default never reach api.stripe.com.
"""

from __future__ import annotations

import json
from typing import Any

import stripe
from django.conf import settings


def stripe_client() -> stripe.StripeClient:
    # Retries are left to the caller: each create call carries an idempotency key instead.
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=0,
    )


def stripe_event_verify(*, payload: bytes, signature_header: str) -> dict[str, Any]:
    """Verify a webhook's signature and timestamp over the raw body and return the event as a dict.

    Raises ``stripe.SignatureVerificationError`` for a bad signature or a
    timestamp older than STRIPE_WEBHOOK_TOLERANCE_SECONDS, and ValueError for
    a body that is not a JSON object with an id, a type and data.
    """
    event = json.loads(payload)
    if not isinstance(event, dict) or not {"id", "type", "data"} <= event.keys():
        raise ValueError("The body is not a Stripe event.")
    stripe.Webhook.construct_event(
        payload,
        signature_header,
        settings.STRIPE_WEBHOOK_SECRET,
        tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
    )
    return event


def object_id(value: Any) -> str:
    """Return the id of a Stripe field that contains either an id or an expanded object."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value["id"] if isinstance(value, dict) else value.id)
