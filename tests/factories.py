"""factory_boy factories. Users are created through the real signup path's
side effects: a personal account, a wallet and the signup credit."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress

from accounts.models import Account, ApiKey, User
from accounts.services import api_key_create
from catalog.models import Endpoint, EndpointPrice
from catalog.services import endpoint_price_schedule


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


def account_with_key() -> tuple[Account, str]:
    """Sign up a new user; return their personal account and the secret of an all-services key."""
    user = UserFactory()
    _, secret = make_key(user)
    return personal_account(user), secret


def set_price(service: str, endpoint: str, price_units: int) -> EndpointPrice:
    """Make ``price_units`` the price of service/endpoint from now on, as an operator would."""
    return endpoint_price_schedule(
        endpoint=Endpoint.objects.get(service__slug=service, name__iexact=endpoint),
        price_units=price_units,
        effective_from=None,
        created_by=None,
    )


def admin_change_form_data(page: Any) -> dict[str, object]:
    """The POST data a browser would send back for an unchanged admin change form."""
    form = page.context["adminform"].form
    data: dict[str, object] = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None and value is not False:
            data[name] = value
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[f"{formset.prefix}-{name}"] = management[name].value()
        for inline_form in formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is not None and value is not False:
                    data[inline_form.add_prefix(name)] = value
    return data
