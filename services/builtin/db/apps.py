from __future__ import annotations

from django.apps import AppConfig


class DbConfig(AppConfig):
    name = "services.builtin.db"
    label = "builtin_db"
    verbose_name = "Database service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.db import service  # noqa: F401
