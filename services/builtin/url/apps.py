from __future__ import annotations

from django.apps import AppConfig


class UrlConfig(AppConfig):
    name = "services.builtin.url"
    label = "builtin_url"
    verbose_name = "URL shortener service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.url import service  # noqa: F401
