"""Operator alerts when a provider rejects the platform's credential or its quota runs out."""

from __future__ import annotations

import uuid

import structlog
from celery import shared_task
from django.core.cache import cache
from django.core.mail import send_mail

logger = structlog.get_logger(__name__)

# One email per service and problem in this many seconds; every failure is still logged.
ALERT_INTERVAL_SECONDS = 3600

MESSAGES = {
    "auth": "rejected the platform's credential",
    "quota": "reported that the platform's plan or quota is used up",
}


def _claim(key: str) -> bool:
    """Claim ``key`` in the cache for ALERT_INTERVAL_SECONDS. Return True when claimed, and when the cache is down."""
    try:
        return bool(cache.add(key, 1, timeout=ALERT_INTERVAL_SECONDS))
    except Exception as exc:  # the cache (Redis) is down: alert anyway, better twice than never
        logger.warning("Provider alert throttle unavailable", error=type(exc).__name__)
        return True


def provider_alert(*, service: str, provider: str, problem: str, status: int) -> None:
    """Queue an email to the operators, at most once an hour per service and problem."""
    if not _claim(f"providers:alert:{service}:{problem}"):
        return
    try:
        provider_alert_send.delay(
            service=service, provider=provider, problem=problem, status=status, alert_id=uuid.uuid4().hex
        )
    except Exception as exc:  # the broker is down; the error log line above the call still stands
        logger.error("Provider alert not queued", service=service, error=type(exc).__name__)


@shared_task
def provider_alert_send(*, service: str, provider: str, problem: str, status: int, alert_id: str = "") -> int:
    """Email the operators what failed and where to fix it; never the credential.

    A redelivered message carries the same ``alert_id`` and sends nothing: the
    first run claims the id in the cache. Messages queued without an id are sent each time.
    """
    from billing.services.operations import operator_emails

    recipients = operator_emails()
    if not recipients:
        logger.warning("Provider alert has no recipients", service=service)
        return 0
    sent_key = f"providers:alert-sent:{alert_id}"
    if alert_id and not _claim(sent_key):
        logger.info("Provider alert already sent", service=service, alert_id=alert_id)
        return 0
    what = MESSAGES.get(problem, "failed")
    body = (
        f"The provider {provider} behind the {service} service {what} (HTTP {status}).\n\n"
        f"Calls to {service} return 503 and are not charged until this is fixed. Check the provider "
        f"account, then enter a new credential in admin under Service providers.\n"
    )
    try:
        return send_mail(f"[M3O] {service}: provider {provider} {what}", body, None, recipients)
    except Exception:
        # Release the claim, so that a redelivery of this message sends it.
        if alert_id:
            cache.delete(sent_key)
        logger.exception("Provider alert email failed", service=service, alert_id=alert_id)
        raise
