"""Create or update the first operator (a superuser) from environment variables.

Unlike createsuperuser it needs no terminal, so a deployment job can run it.
Running it again is harmless: an existing user keeps their password unless
M3O_OPERATOR_PASSWORD differs and --reset-password is given.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import User, normalize_email
from m3o_web import env


class Command(BaseCommand):
    help = "Create the operator account from M3O_OPERATOR_EMAIL and M3O_OPERATOR_PASSWORD (or their _FILE forms)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--reset-password", action="store_true", help="Set the password of an existing operator too."
        )
        parser.add_argument(
            "--if-configured",
            action="store_true",
            help="Do nothing (and succeed) when M3O_OPERATOR_EMAIL is not set, for deployment jobs.",
        )

    def handle(self, *args: Any, reset_password: bool = False, if_configured: bool = False, **options: Any) -> None:
        if if_configured and not env.is_set("M3O_OPERATOR_EMAIL"):
            self.stdout.write("M3O_OPERATOR_EMAIL is not set; no operator created.")
            return
        try:
            email = normalize_email(env.string("M3O_OPERATOR_EMAIL"))
            password = env.string("M3O_OPERATOR_PASSWORD")
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"M3O_OPERATOR_EMAIL={email!r} is not a valid email address.") from None
        if len(password) < 12:
            raise CommandError("M3O_OPERATOR_PASSWORD must be at least 12 characters long.")

        with transaction.atomic():
            user = User.objects.filter(email=email).first()
            created = user is None
            if user is None:
                user = User.objects.create_superuser(email, password)
            else:
                user.is_staff = user.is_superuser = user.is_active = True
                if reset_password:
                    user.set_password(password)
                user.save()
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        self.stdout.write(f"Operator {email} {'created' if created else 'updated'}.")
