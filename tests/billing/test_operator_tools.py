"""Operator tools in admin: grants and adjustments, refunds, balance history, the reconcile report."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from accounts.models import AuditEvent, User
from billing.models import LedgerEntry, Payment, Wallet
from billing.services import wallet_reconcile
from billing.tasks import wallets_reconcile
from tests.conftest import Persona
from tests.localstripe import new_card

DOLLAR = 1_000_000


@pytest.fixture
def operator(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("ops@example.com", "ops passphrase 123"))
    return client


def credit(operator: Client, persona: Persona, **data: str) -> int:
    form = {"kind": "grant", "amount": "5", "reason": "Conference voucher", "reference": "ref-1", **data}
    return operator.post(f"/admin/billing/wallet/{persona.account.pk}/credit/", form).status_code


def test_grant_is_idempotent_by_reference(operator: Client, owner: Persona) -> None:
    before = owner.balance

    assert credit(operator, owner) == 302
    assert credit(operator, owner) == 302

    assert owner.balance == before + 5 * DOLLAR
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.GRANT, reference="operator:ref-1")
    assert entry.description == "Conference voucher"
    assert AuditEvent.objects.filter(action="billing.grant", account=owner.account).count() == 1
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_adjustment_may_take_credit_but_not_below_zero(operator: Client, owner: Persona) -> None:
    before = owner.balance

    assert credit(operator, owner, kind="adjustment", amount="-0.25", reference="ref-2") == 302
    assert owner.balance == before - 250_000

    assert credit(operator, owner, kind="adjustment", amount="-100", reference="ref-3") == 200
    assert credit(operator, owner, kind="grant", amount="-1", reference="ref-4") == 200
    assert owner.balance == before - 250_000
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_credit_form_rejects_missing_reason(operator: Client, owner: Persona) -> None:
    assert credit(operator, owner, reason="") == 200
    assert not LedgerEntry.objects.filter(reference__startswith="operator:").exists()


def test_non_operator_cannot_open_tools(owner: Persona) -> None:
    assert owner.client.get(f"/admin/billing/wallet/{owner.account.pk}/credit/").status_code == 302
    assert owner.client.get("/admin/billing/wallet/reconcile/").status_code == 302


def test_balance_history_shows_running_ledger_sum(operator: Client, owner: Persona) -> None:
    credit(operator, owner)
    page = operator.get(f"/admin/billing/wallet/{owner.account.pk}/history/").content.decode()
    assert "grant:signup" in page
    assert "operator:ref-1" in page
    assert "<td>6000000</td>" in page


def test_operator_refund_removes_amount_once(operator: Client, owner: Persona, stripe_api: str) -> None:
    owner.client.post(
        "/billing/topup/",
        {"amount": "10", "payment_method": new_card(owner.client, stripe_api), "save_card": "on"},
        headers={"Accept": "application/json"},
    )
    payment = Payment.objects.get(account=owner.account)
    before = owner.balance

    response = operator.post(f"/admin/billing/payment/{payment.pk}/refund/", {"amount": "4.00", "reason": "Asked by customer"})
    assert response.status_code == 302
    # A second refund above what is still refundable is rejected.
    operator.post(f"/admin/billing/payment/{payment.pk}/refund/", {"amount": "7.00", "reason": "Asked by customer"})

    payment.refresh_from_db()
    assert payment.refunded_cents == 400
    assert owner.balance == before - 4 * DOLLAR
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1
    assert AuditEvent.objects.filter(action="billing.refund").count() == 1
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_reconcile_report_and_nightly_alert_name_mismatched_account(operator: Client, owner: Persona, outsider: Persona) -> None:
    assert "reconcile-ok" in operator.get("/admin/billing/wallet/reconcile/").content.decode()
    assert wallets_reconcile() == 0
    assert not mail.outbox

    Wallet.objects.filter(pk=owner.account.pk).update(balance_units=owner.balance + 7)

    page = operator.get("/admin/billing/wallet/reconcile/").content.decode()
    assert f"<td>{owner.account.pk}</td>" in page
    assert f"<td>{outsider.account.pk}</td>" not in page
    assert wallets_reconcile() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]
    assert f"account {owner.account.pk}:" in mail.outbox[0].body
    assert "difference 7" in mail.outbox[0].body


def test_reconcile_alert_goes_to_configured_operators(owner: Persona, settings) -> None:
    settings.M3O_OPERATOR_EMAILS = ["billing-ops@example.com"]
    Wallet.objects.filter(pk=owner.account.pk).update(balance_units=0)
    assert wallets_reconcile() == 1
    assert mail.outbox[0].to == ["billing-ops@example.com"]
