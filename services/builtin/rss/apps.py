from __future__ import annotations

from django.apps import AppConfig


class RssConfig(AppConfig):
    name = "services.builtin.rss"
    label = "builtin_rss"
    verbose_name = "RSS service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.rss import service  # noqa: F401
