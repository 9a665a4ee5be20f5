from __future__ import annotations

from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "services.builtin.search"
    label = "builtin_search"
    verbose_name = "Search service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.search import service  # noqa: F401
