from __future__ import annotations

from django.apps import AppConfig


class EventConfig(AppConfig):
    name = "services.builtin.event"
    label = "builtin_event"
    verbose_name = "Event service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.event import service  # noqa: F401
