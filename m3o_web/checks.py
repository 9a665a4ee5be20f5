"""System checks for settings that are safe in development but not in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_email_backend(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    backend = settings.MAILERS.get("default", {}).get("BACKEND", "")
    if backend.endswith("ReadableConsoleEmailBackend") or "console" in backend:
        return [
            Warning(
                "Email is printed to the console, so password-reset and verification links end up in the logs.",
                hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD) to send real email.",
                id="m3o.W001",
            )
        ]
    return []
