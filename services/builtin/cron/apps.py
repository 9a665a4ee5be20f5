from __future__ import annotations

from django.apps import AppConfig


class CronConfig(AppConfig):
    name = "services.builtin.cron"
    label = "builtin_cron"
    verbose_name = "Cron service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.cron import service  # noqa: F401
