from __future__ import annotations

from django.apps import AppConfig


class CacheConfig(AppConfig):
    name = "services.builtin.cache"
    label = "builtin_cache"
    verbose_name = "Cache service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.cache import service  # noqa: F401
