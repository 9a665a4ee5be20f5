from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and usage"

    def ready(self) -> None:
        from billing import metering, quotas, receivers  # noqa: F401  (connects receivers)
