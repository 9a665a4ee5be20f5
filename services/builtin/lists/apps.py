from __future__ import annotations

from django.apps import AppConfig


class ListsConfig(AppConfig):
    name = "services.builtin.lists"
    label = "builtin_lists"
    verbose_name = "Lists service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.lists import service  # noqa: F401
