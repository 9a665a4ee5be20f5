from __future__ import annotations

from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "services.builtin.wallet"
    label = "builtin_wallet"
    verbose_name = "Wallet service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.wallet import service  # noqa: F401
