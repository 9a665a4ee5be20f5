from __future__ import annotations

from django.apps import AppConfig


class SecretConfig(AppConfig):
    name = "services.builtin.secret"
    label = "builtin_secret"
    verbose_name = "Secret service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.secret import service  # noqa: F401
