from __future__ import annotations

from django.apps import AppConfig


class StreamConfig(AppConfig):
    name = "services.builtin.stream"
    label = "builtin_stream"
    verbose_name = "Stream service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.stream import service  # noqa: F401
