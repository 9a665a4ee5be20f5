"""Settings pages, the activity log and account deletion."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client

from accounts.models import Account, ApiKey, AuditEvent, User
from billing.models import LedgerEntry, UsageEvent
from tests.conftest import Persona

PASSWORD = "correct horse battery staple"  # the factories' password


def signed_in_client(persona: Persona) -> Client:
    """A client signed in through the login form that has just confirmed its password again.

    allauth asks for the password again before sensitive changes (email,
    account deletion), even right after sign-in.
    """
    client = Client()
    response = client.post("/accounts/login/", {"login": persona.user.email, "password": PASSWORD})
    assert response.status_code == 302
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/settings/",
        "/settings/activity/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/accounts/sessions/",
    ],
)
def test_settings_pages_load(owner: Persona, path: str) -> None:
    response = owner.client.get(path)
    assert response.status_code == 200
    assert 'class="settings-nav"' in response.content.decode()


@pytest.mark.parametrize("path", ["/settings/", "/settings/activity/", "/settings/delete/"])
def test_settings_pages_need_sign_in(db: None, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_in_is_audited_and_listed(owner: Persona) -> None:
    client = signed_in_client(owner)
    event = AuditEvent.objects.get(action="user.signed_in")
    assert event.account_id == owner.account.pk
    assert event.actor_id == owner.user.pk
    assert "user.signed_in" in client.get("/settings/activity/").content.decode()


def test_activity_shows_only_own_account(owner: Persona, outsider: Persona) -> None:
    signed_in_client(outsider)
    page = owner.client.get("/settings/activity/").content.decode()
    assert "outsider@example.com" not in page


def test_password_change_is_audited(owner: Persona) -> None:
    client = signed_in_client(owner)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "another long passphrase 42", "password2": "another long passphrase 42"},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="user.password_changed", account=owner.account).exists()


def test_email_change_needs_verification_and_is_audited(owner: Persona) -> None:
    client = signed_in_client(owner)
    response = client.post("/accounts/email/", {"action_add": "", "email": "New.Owner@example.com"})
    assert response.status_code == 302
    owner.user.refresh_from_db()
    assert owner.user.email == "owner@example.com"

    link = next(message for message in mail.outbox if "confirm-email" in message.body)
    path = link.body[link.body.index("/accounts/confirm-email/") :].split()[0]
    assert client.post(path).status_code == 302

    owner.user.refresh_from_db()
    assert owner.user.email == "new.owner@example.com"
    assert not EmailAddress.objects.filter(user=owner.user, email="owner@example.com").exists()
    assert AuditEvent.objects.filter(action="user.email_changed", account=owner.account).exists()


def test_delete_needs_recent_sign_in(owner: Persona) -> None:
    response = owner.client.post("/settings/delete/", {"confirmation": "delete my account"})
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
    assert User.objects.get(pk=owner.user.pk).is_active


def test_delete_needs_confirmation_phrase(owner: Persona) -> None:
    client = signed_in_client(owner)
    response = client.post("/settings/delete/", {"confirmation": "yes"})
    assert response.status_code == 400
    assert User.objects.get(pk=owner.user.pk).is_active


def test_delete_revokes_keys_anonymises_and_keeps_money_rows(owner: Persona) -> None:
    assert owner.call().status_code == 200
    ledger_before = LedgerEntry.objects.filter(wallet_id=owner.account.pk).count()
    client = signed_in_client(owner)

    response = client.post("/settings/delete/", {"confirmation": "Delete my account"})

    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    user = User.objects.get(pk=owner.user.pk)
    assert user.email == f"deleted-{user.pk}@deleted.invalid"
    assert not user.is_active
    assert not user.has_usable_password()
    assert not EmailAddress.objects.filter(user=user).exists()
    account = Account.objects.get(pk=owner.account.pk)
    assert account.status == Account.Status.CLOSED
    assert "owner@example.com" not in account.name
    assert not ApiKey.objects.filter(account=account, revoked_at__isnull=True).exists()
    assert LedgerEntry.objects.filter(wallet_id=account.pk).count() == ledger_before
    assert UsageEvent.objects.filter(account=account).count() == 1
    assert AuditEvent.objects.filter(action="account.closed", account=account).exists()

    assert owner.call().json()["id"] == "v1.key_revoked"
    assert Client().post("/accounts/login/", {"login": "owner@example.com", "password": PASSWORD}).status_code == 200


def test_deleted_address_can_sign_up_again(owner: Persona) -> None:
    client = signed_in_client(owner)
    client.post("/settings/delete/", {"confirmation": "delete my account"})
    response = Client().post(
        "/accounts/signup/", {"email": "owner@example.com", "password1": "fresh passphrase 99", "password2": "fresh passphrase 99"}
    )
    assert response.status_code == 302
    assert User.objects.filter(email="owner@example.com", is_active=True).count() == 1


def test_closing_account_purges_service_data(owner: Persona, monkeypatch) -> None:
    from dataclasses import replace

    from services import registry

    purged: list[int] = []
    service = replace(registry.get("helloworld"), purge_account=purged.append)
    monkeypatch.setitem(registry._services, "helloworld", service)

    client = signed_in_client(owner)
    client.post("/settings/delete/", {"confirmation": "delete my account"})

    assert purged == [owner.account.pk]


def test_user_ends_other_sessions(owner: Persona) -> None:
    laptop = signed_in_client(owner)
    phone = signed_in_client(owner)
    assert phone.get("/dashboard/").status_code == 200

    response = laptop.post("/accounts/sessions/")

    assert response.status_code == 302
    assert laptop.get("/dashboard/").status_code == 200
    assert phone.get("/dashboard/").status_code == 302


def test_repeated_failed_logins_are_rate_limited(owner: Persona) -> None:
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"login": owner.user.email, "password": "wrong password"})

    # The right password is refused too while the limit lasts.
    response = client.post("/accounts/login/", {"login": owner.user.email, "password": PASSWORD})

    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signups_from_one_address_are_rate_limited(db: None) -> None:
    client = Client()
    statuses = [
        client.post(
            "/accounts/signup/",
            {"email": f"bulk{index}@example.com", "password1": "bulk passphrase 123", "password2": "bulk passphrase 123"},
        ).status_code
        for index in range(22)
    ]
    assert statuses[:20] == [302] * 20
    assert statuses[20:] == [429, 429]
