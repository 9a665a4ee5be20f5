from __future__ import annotations

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "services.builtin.chat"
    label = "builtin_chat"
    verbose_name = "Chat service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.chat import service  # noqa: F401
