"""Operator admin: every registered model's pages load, keys can be revoked, money is read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from billing.models import LedgerEntry
from tests.conftest import Persona


def test_every_changelist_loads(operator: Client, owner: Persona) -> None:
    owner.call()
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert operator.get(url).status_code == 200, url


def test_operator_revokes_key_in_admin(operator: Client, owner: Persona) -> None:
    response = operator.post(
        reverse("admin:accounts_apikey_changelist"), {"action": "revoke", "_selected_action": [owner.key.pk]}
    )
    assert response.status_code == 302
    owner.key.refresh_from_db()
    assert owner.key.revoked_at is not None
    assert owner.call().status_code == 401


def test_ledger_cannot_be_edited_in_admin(operator: Client, owner: Persona) -> None:
    entry = LedgerEntry.objects.first()
    url = reverse("admin:billing_ledgerentry_change", args=[entry.pk])
    operator.post(url, {"amount_units": 999_999_999})
    entry.refresh_from_db()
    assert entry.amount_units != 999_999_999
    assert operator.get(reverse("admin:billing_ledgerentry_add")).status_code == 403


def admin_urls() -> list[str]:
    """Return the URL of every admin page.

    That is the index, each model's list and add pages, and the change, history and delete pages of
    its first row (the personas' own rows among them).
    """
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")]
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            urls += [reverse(f"{prefix}_{page}", args=[row.pk]) for page in ("change", "history", "delete")]
    return urls


@pytest.mark.parametrize("persona", ["anonymous", "customer"])
def test_admin_pages_need_staff(persona: str, owner: Persona) -> None:
    owner.call()  # so usage, ledger and key rows exist, the customer's own among them
    client = Client() if persona == "anonymous" else owner.client

    wrong = []
    for url in admin_urls():
        for response in (client.get(url), client.post(url, {"post": "yes"})):
            if response.status_code != 302 or not response["Location"].startswith(reverse("admin:login")):
                wrong.append((url, response.request["REQUEST_METHOD"], response.status_code))
    assert wrong == []


def test_suspending_in_admin_is_audited_and_blocks_calls(operator: Client, owner: Persona) -> None:
    from accounts.models import Account, AuditEvent

    assert owner.call().status_code == 200
    url = reverse("admin:accounts_account_change", args=[owner.account.pk])
    response = operator.post(
        url,
        {
            "name": owner.account.name,
            "kind": "personal",
            "status": "suspended",
            "status_message": "Chargeback under review.",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "invitations-TOTAL_FORMS": "0",
            "invitations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Account.objects.get(pk=owner.account.pk).status == "suspended"
    event = AuditEvent.objects.get(action="account.suspended")
    assert event.data == {"message": "Chargeback under review."}
    assert event.actor.email == "ops@example.com"

    call = owner.call()
    assert call.status_code == 403
    assert "Chargeback under review." in call.json()["detail"]
    assert "Chargeback under review." in owner.client.get("/dashboard/").content.decode()
