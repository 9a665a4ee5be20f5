from __future__ import annotations

import importlib
import pkgutil

from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "services.providers"
    label = "providers"
    verbose_name = "Service providers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each module under apis/ registers one provider-backed service; models are importable by now.
        from catalog.availability import availability_source_set
        from services.providers import apis
        from services.providers.dispatch import unavailable_services

        for module in pkgutil.iter_modules(apis.__path__):
            importlib.import_module(f"{apis.__name__}.{module.name}")
        availability_source_set(unavailable_services)
