from __future__ import annotations

from django.apps import AppConfig


class LocationConfig(AppConfig):
    name = "services.builtin.location"
    label = "builtin_location"
    verbose_name = "Location service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.location import service  # noqa: F401
