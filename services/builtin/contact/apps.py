from __future__ import annotations

from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "services.builtin.contact"
    label = "builtin_contact"
    verbose_name = "Contact service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The service registers here, not in __init__, because its handlers import models.
        from services.builtin.contact import service  # noqa: F401
