from __future__ import annotations

from django.apps import AppConfig


class UserConfig(AppConfig):
    name = "services.builtin.user"
    label = "builtin_user"
    verbose_name = "User service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.user import service  # noqa: F401
