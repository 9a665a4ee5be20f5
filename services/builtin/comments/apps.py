from __future__ import annotations

from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "services.builtin.comments"
    label = "builtin_comments"
    verbose_name = "Comments service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.comments import service  # noqa: F401
