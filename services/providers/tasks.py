"""Operator alerts when a provider rejects the platform's credential or its quota runs out."""

from __future__ import annotations

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


def provider_alert(*, service: str, provider: str, problem: str, status: int) -> None:
    """Queue an email to the operators, at most once an hour per service and problem."""
    try:
        first = cache.add(f"providers:alert:{service}:{problem}", 1, timeout=ALERT_INTERVAL_SECONDS)
    except Exception as exc:  # the cache (Redis) is down: alert anyway, better twice than never
        logger.warning("Provider alert throttle unavailable", error=type(exc).__name__)
        first = True
    if not first:
        return
    try:
        provider_alert_send.delay(service=service, provider=provider, problem=problem, status=status)
    except Exception as exc:  # the broker is down; the error log line above the call still stands
        logger.error("Provider alert not queued", service=service, error=type(exc).__name__)


@shared_task
def provider_alert_send(*, service: str, provider: str, problem: str, status: int) -> int:
    """Email the operators what failed and where to fix it; never the credential."""
    from billing.services.operations import operator_emails

    recipients = operator_emails()
    if not recipients:
        logger.warning("Provider alert has no recipients", service=service)
        return 0
    what = MESSAGES.get(problem, "failed")
    body = (
        f"The provider {provider} behind the {service} service {what} (HTTP {status}).\n\n"
        f"Calls to {service} return 503 and are not charged until this is fixed. Check the provider "
        f"account, then enter a new credential in admin under Service providers.\n"
    )
    return send_mail(f"[M3O] {service}: provider {provider} {what}", body, None, recipients)
