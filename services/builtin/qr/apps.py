from __future__ import annotations

from django.apps import AppConfig


class QrConfig(AppConfig):
    name = "services.builtin.qr"
    label = "builtin_qr"
    verbose_name = "QR code service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.qr import service  # noqa: F401
