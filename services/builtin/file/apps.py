from __future__ import annotations

from django.apps import AppConfig


class FileConfig(AppConfig):
    name = "services.builtin.file"
    label = "builtin_file"
    verbose_name = "File service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.file import service  # noqa: F401
