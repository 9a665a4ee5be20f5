from __future__ import annotations

from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "services.builtin.notes"
    label = "builtin_notes"
    verbose_name = "Notes service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.notes import service  # noqa: F401
