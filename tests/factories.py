"""factory_boy factories. Users are created through the real signup path's
side effects: a personal account, a wallet and the signup credit."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress

from accounts.models import Account, ApiKey, User
from accounts.services import api_key_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


def personal_account(user: User) -> Account:
    return Account.objects.get(memberships__user=user, kind=Account.Kind.PERSONAL)


def make_key(user: User, *, scopes: list[str] | None = None, name: str = "test key") -> tuple[ApiKey, str]:
    return api_key_create(
        account=personal_account(user), name=name, scopes=scopes or [ApiKey.ALL_SERVICES], created_by=user
    )
