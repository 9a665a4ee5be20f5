"""The wallet service through the gateway."""

from __future__ import annotations

import pytest
from django.test import override_settings

from services.builtin.wallet.models import EndUserWallet, WalletOperation, WalletTransaction
from tests.conftest import Persona


def wallet(persona: Persona, endpoint: str, **body: object):
    return persona.call("wallet", endpoint, body=body)


def funded(persona: Persona, wallet_id: str, amount: int) -> None:
    assert wallet(persona, "Create", id=wallet_id).status_code == 200
    if amount:
        assert wallet(persona, "Credit", id=wallet_id, amount=amount).status_code == 200


def test_create_read_list_delete(owner: Persona) -> None:
    created = wallet(owner, "Create", id="alice", name="Alice", description="points").json()["account"]
    generated = wallet(owner, "Create").json()["account"]

    assert created["balance"] == 0
    assert wallet(owner, "Read", id="alice").json()["account"] == created
    assert len(generated["id"]) == 36
    assert [row["id"] for row in wallet(owner, "List").json()["accounts"]] == ["alice", generated["id"]]
    assert [row["id"] for row in wallet(owner, "List", offset=1, limit=1).json()["accounts"]] == [generated["id"]]
    assert wallet(owner, "Delete", id="alice").json() == {"id": "alice"}
    assert wallet(owner, "Read", id="alice").status_code == 404


def test_duplicate_id_is_400(owner: Persona) -> None:
    wallet(owner, "Create", id="w")

    response = wallet(owner, "Create", id="w")

    assert response.status_code == 400
    assert response.json()["id"] == "wallet.create"


def test_credit_debit_balance_and_transactions(owner: Persona) -> None:
    wallet(owner, "Create", id="w")

    credited = wallet(owner, "Credit", id="w", amount=100, reference="bonus").json()
    debited = wallet(owner, "Debit", id="w", amount=30, visible=False).json()

    assert credited["balance"] == 100
    assert debited["balance"] == 70
    assert debited["transaction"]["amount"] == -30
    assert debited["transaction"]["visible"] is False
    assert wallet(owner, "Balance", id="w").json() == {"balance": 70}
    listed = wallet(owner, "Transactions", id="w").json()["transactions"]
    assert [(row["amount"], row["balance"], row["reference"]) for row in listed] == [(-30, 70, ""), (100, 100, "bonus")]
    assert [row["amount"] for row in wallet(owner, "Transactions", id="w", offset=1).json()["transactions"]] == [100]


def test_debit_past_balance_is_refused_and_changes_nothing(owner: Persona) -> None:
    funded(owner, "w", 50)

    response = wallet(owner, "Debit", id="w", amount=51)

    assert response.status_code == 400
    assert response.json()["id"] == "wallet.debit"
    assert response.json()["fields"] == {"amount": "More than the wallet's balance."}
    assert wallet(owner, "Balance", id="w").json() == {"balance": 50}
    assert WalletTransaction.objects.count() == 1


def test_credit_past_largest_balance_is_refused(owner: Persona) -> None:
    funded(owner, "w", 9_007_199_254_740_991)

    response = wallet(owner, "Credit", id="w", amount=1)

    assert response.status_code == 400
    assert response.json()["id"] == "wallet.credit"


def test_transfer_moves_both_or_neither(owner: Persona) -> None:
    funded(owner, "a", 100)
    funded(owner, "b", 0)

    moved = wallet(owner, "Transfer", from_id="a", to_id="b", amount=60, reference="gift")
    refused = wallet(owner, "Transfer", from_id="a", to_id="b", amount=41)

    assert moved.json() == {"from_balance": 40, "to_balance": 60}
    assert refused.status_code == 400
    assert refused.json()["id"] == "wallet.transfer"
    assert wallet(owner, "Balance", id="a").json() == {"balance": 40}
    assert wallet(owner, "Balance", id="b").json() == {"balance": 60}
    incoming = wallet(owner, "Transactions", id="b").json()["transactions"]
    assert incoming[0]["metadata"] == {"type": "transfer", "from_id": "a"}
    assert incoming[0]["reference"] == "gift"


def test_transfer_to_same_or_missing_wallet(owner: Persona) -> None:
    funded(owner, "a", 10)

    same = wallet(owner, "Transfer", from_id="a", to_id="a", amount=1)
    missing_target = wallet(owner, "Transfer", from_id="a", to_id="nope", amount=1)
    missing_source = wallet(owner, "Transfer", from_id="nope", to_id="a", amount=1)

    assert same.status_code == 400
    assert missing_target.status_code == 404
    assert missing_target.json()["fields"] == {"to_id": "No such wallet."}
    assert missing_source.status_code == 404
    assert missing_source.json()["fields"] == {"from_id": "No such wallet."}
    assert wallet(owner, "Balance", id="a").json() == {"balance": 10}


@pytest.mark.parametrize("endpoint", ["Credit", "Debit"])
def test_repeated_idempotency_key_applies_once(owner: Persona, endpoint: str) -> None:
    funded(owner, "w", 100)

    first = wallet(owner, endpoint, id="w", amount=10, idempotency_key="k1")
    again = wallet(owner, endpoint, id="w", amount=10, idempotency_key="k1")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(wallet(owner, "Transactions", id="w").json()["transactions"]) == 2


def test_repeated_transfer_key_applies_once(owner: Persona) -> None:
    funded(owner, "a", 100)
    funded(owner, "b", 0)

    first = wallet(owner, "Transfer", from_id="a", to_id="b", amount=10, idempotency_key="t")
    again = wallet(owner, "Transfer", from_id="a", to_id="b", amount=10, idempotency_key="t")

    assert first.json() == again.json() == {"from_balance": 90, "to_balance": 10}
    assert wallet(owner, "Balance", id="b").json() == {"balance": 10}


def test_key_reused_for_another_request_is_400(owner: Persona) -> None:
    funded(owner, "w", 100)
    wallet(owner, "Debit", id="w", amount=10, idempotency_key="k")

    for body in ({"id": "w", "amount": 11}, {"id": "other", "amount": 10}):
        response = wallet(owner, "Debit", idempotency_key="k", **body)
        assert response.status_code == 400
        assert response.json()["fields"] == {"idempotency_key": "Already used for a different request."}
    assert wallet(owner, "Credit", id="w", amount=10, idempotency_key="k").status_code == 400
    assert wallet(owner, "Balance", id="w").json() == {"balance": 90}


def test_refused_debit_does_not_use_up_its_key(owner: Persona) -> None:
    funded(owner, "w", 5)
    assert wallet(owner, "Debit", id="w", amount=10, idempotency_key="k").status_code == 400
    wallet(owner, "Credit", id="w", amount=5)

    assert wallet(owner, "Debit", id="w", amount=10, idempotency_key="k").json()["balance"] == 0


def test_idempotency_keys_are_per_account(owner: Persona, outsider: Persona) -> None:
    funded(owner, "w", 100)
    funded(outsider, "w", 100)

    wallet(owner, "Debit", id="w", amount=10, idempotency_key="k")

    assert wallet(outsider, "Debit", id="w", amount=20, idempotency_key="k").json()["balance"] == 80


def test_missing_wallet_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint, body in [
        ("Read", {"id": "nothing"}),
        ("Delete", {"id": "nothing"}),
        ("Balance", {"id": "nothing"}),
        ("Transactions", {"id": "nothing"}),
        ("Credit", {"id": "nothing", "amount": 1}),
        ("Debit", {"id": "nothing", "amount": 1}),
    ]:
        response = owner.call("wallet", endpoint, body=body)
        assert response.status_code == 404, endpoint
        assert response.json()["id"] == f"wallet.{endpoint.lower()}"
    assert owner.balance == before


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=3)
def test_row_limit_counts_wallets_and_transactions(owner: Persona) -> None:
    funded(owner, "a", 10)
    funded(owner, "b", 0)

    debit = wallet(owner, "Debit", id="a", amount=1)
    create = wallet(owner, "Create", id="c")

    assert debit.status_code == create.status_code == 403
    assert debit.json()["id"] == "wallet.row_limit"
    assert wallet(owner, "Balance", id="a").json() == {"balance": 10}


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Create", {"id": ""}),
        ("Create", {"id": "x" * 257}),
        ("Create", {"name": 5}),
        ("Create", {"other": 1}),
        ("Read", {}),
        ("Delete", {"id": 1}),
        ("Balance", {}),
        ("Credit", {"id": "w"}),
        ("Credit", {"id": "w", "amount": 0}),
        ("Credit", {"id": "w", "amount": -5}),
        ("Credit", {"id": "w", "amount": 1.5}),
        ("Credit", {"id": "w", "amount": "10"}),
        ("Credit", {"id": "w", "amount": 9_007_199_254_740_992}),
        ("Credit", {"id": "w", "amount": 1, "idempotency_key": ""}),
        ("Debit", {"amount": 1}),
        ("Debit", {"id": "w", "amount": 1, "visible": "yes"}),
        ("Debit", {"id": "w", "amount": 1, "reference": "r" * 1001}),
        ("Transfer", {"from_id": "a", "amount": 1}),
        ("Transfer", {"from_id": "a", "to_id": "b", "amount": 0}),
        ("Transactions", {"id": "w", "limit": 0}),
        ("Transactions", {"id": "w", "offset": -1}),
        ("List", {"limit": 1001}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("wallet", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_purge_account_deletes_wallets(owner: Persona, outsider: Persona) -> None:
    from services.registry import purge_account

    funded(owner, "w", 5)
    wallet(owner, "Debit", id="w", amount=1, idempotency_key="k")
    funded(outsider, "w", 5)

    purge_account(owner.account.pk)

    for model in (EndUserWallet, WalletTransaction, WalletOperation):
        assert not model.objects.filter(account_id=owner.account.pk).exists()
    assert EndUserWallet.objects.filter(account_id=outsider.account.pk).count() == 1
