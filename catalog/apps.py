from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"

    def ready(self) -> None:
        from catalog import selectors  # noqa: F401  (connects the gateway cache's receivers)
