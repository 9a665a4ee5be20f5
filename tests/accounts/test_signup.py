"""Signup, email verification and sign-in through allauth's pages."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.db import IntegrityError
from django.test import Client

from accounts.models import Account, Membership, User
from billing.models import LedgerEntry, Wallet

PASSWORD = "a-long unguessable passphrase"


def sign_up(client: Client, email: str) -> None:
    response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content


def confirmation_link(message: mail.EmailMessage) -> str:
    match = re.search(r"http://\S+/accounts/confirm-email/\S+/", message.body)
    assert match, message.body
    return match.group(0)


@pytest.mark.django_db
def test_signup_creates_personal_account_with_credit(settings) -> None:
    sign_up(Client(), "new@example.com")

    user = User.objects.get(email="new@example.com")
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.OWNER
    assert membership.account.kind == Account.Kind.PERSONAL
    wallet = Wallet.objects.get(account=membership.account)
    assert wallet.balance_units == settings.M3O_SIGNUP_CREDIT_UNITS
    entry = LedgerEntry.objects.get(wallet=wallet)
    assert (entry.kind, entry.amount_units) == (LedgerEntry.Kind.GRANT, settings.M3O_SIGNUP_CREDIT_UNITS)


@pytest.mark.django_db
def test_signup_credit_is_configurable(settings) -> None:
    settings.M3O_SIGNUP_CREDIT_UNITS = 0
    sign_up(Client(), "new@example.com")
    assert Wallet.objects.get().balance_units == 0
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_signup_sends_verification_and_blocks_sign_in_until_verified() -> None:
    client = Client()
    sign_up(client, "new@example.com")

    assert len(mail.outbox) == 1
    assert not EmailAddress.objects.get(email="new@example.com").verified
    assert client.get("/dashboard/").status_code == 302

    link = confirmation_link(mail.outbox[0])
    response = client.post(link)
    assert response.status_code == 302

    assert EmailAddress.objects.get(email="new@example.com").verified
    assert client.get("/dashboard/").status_code == 200


@pytest.mark.django_db
def test_email_is_case_insensitive() -> None:
    sign_up(Client(), "Mixed.Case@Example.COM")
    user = User.objects.get()
    assert user.email == "mixed.case@example.com"
    EmailAddress.objects.filter(user=user).update(verified=True)

    client = Client()
    response = client.post("/accounts/login/", {"login": "MIXED.case@example.com", "password": PASSWORD})

    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200


@pytest.mark.django_db
def test_same_email_in_other_case_gets_form_error() -> None:
    sign_up(Client(), "alice@example.com")

    response = Client().post(
        "/accounts/signup/", {"email": "ALICE@Example.com", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 200
    assert "already registered" in response.context["form"].errors["email"][0]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_database_rejects_duplicate_email_in_other_case() -> None:
    User.objects.create_user("bob@example.com", PASSWORD)
    # bulk_create skips User.save(), which lower-cases; the constraint still holds.
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="BOB@example.com")])


@pytest.mark.django_db
def test_superuser_gets_a_personal_account_too() -> None:
    admin = User.objects.create_superuser("ops@example.com", PASSWORD)
    assert Membership.objects.filter(user=admin, account__kind=Account.Kind.PERSONAL).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "http://127.0.0.1.evil.example/x"])
def test_next_to_another_host_is_ignored(path: str, target: str) -> None:
    user = User.objects.create_user("known@example.com", PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client = Client()
    if path.endswith("login/"):
        data = {"login": "known@example.com", "password": PASSWORD}
    else:
        data = {"email": "fresh@example.com", "password1": PASSWORD, "password2": PASSWORD}

    response = client.post(f"{path}?next={target}", data)

    assert response.status_code == 302
    assert response["Location"].startswith("/")
    assert not response["Location"].startswith("//")


@pytest.mark.django_db
def test_password_reset_with_forged_host_is_rejected() -> None:
    User.objects.create_user("victim@example.com", PASSWORD)
    response = Client(HTTP_HOST="evil.example").post("/accounts/password/reset/", {"email": "victim@example.com"})
    assert response.status_code == 400
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_link_uses_site_url_even_if_any_host_allowed(settings) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = "https://api.example.com"
    user = User.objects.create_user("victim@example.com", PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    Client(HTTP_HOST="evil.example").post("/accounts/password/reset/", {"email": "victim@example.com"})

    assert len(mail.outbox) == 1
    assert "evil.example" not in mail.outbox[0].body
    assert "https://api.example.com/accounts/password/reset/key/" in mail.outbox[0].body


@pytest.mark.django_db
def test_social_buttons_hidden_unless_configured(settings) -> None:
    page = Client().get("/accounts/login/").content.decode()
    assert "GitHub" not in page

    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APPS": [{"client_id": "id", "secret": "secret", "key": ""}], "SCOPE": ["user:email"]}
    }
    page = Client().get("/accounts/login/").content.decode()
    assert "GitHub" in page
    assert "Google" not in page
