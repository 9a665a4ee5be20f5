from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = "Gateway and built-in services"

    def ready(self) -> None:
        from m3o_web import checks  # noqa: F401  (registers the system checks)
        from services import registry

        registry.autodiscover()
        # The catalog's price-change preview reads usage, which billing owns.
        from billing.selectors import endpoint_usage_by_account
        from catalog.pricing import usage_source_set

        usage_source_set(endpoint_usage_by_account)
        # post_migrate is sent only for apps with models, which this app has not,
        # so listen for the catalog's: every table exists by the time it is sent.
        post_migrate.connect(
            _sync_catalog, sender=apps.get_app_config("catalog"), dispatch_uid="services_sync_catalog"
        )
        from accounts.signals import account_closed

        account_closed.connect(_purge_account, dispatch_uid="services_purge_account")


def _sync_catalog(sender: AppConfig, **kwargs: Any) -> None:
    """Push every built-in service's metadata into the catalog after each migrate."""
    from services import registry

    registry.sync_catalog()


def _purge_account(sender: type, account_id: int, **kwargs: Any) -> None:
    """Delete what every built-in service stores for a closed account."""
    from services import registry

    registry.purge_account(account_id)
