from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

WALLET_A = "it's; DROP TABLE w__1 %"
WALLET_B = "owner.b"
KEY = "owner-key'; --"
MARKERS = ("owner-wallet-name-7f3", "owner-wallet-description-7f3", "owner-reference-7f3")


def store(persona: Persona) -> None:
    ok(persona, "wallet", "Create", {"id": WALLET_A, "name": MARKERS[0], "description": MARKERS[1]})
    ok(persona, "wallet", "Create", {"id": WALLET_B})
    ok(persona, "wallet", "Credit", {"id": WALLET_A, "amount": 777, "idempotency_key": KEY, "reference": MARKERS[2]})


def snapshot(persona: Persona) -> object:
    return (
        ok(persona, "wallet", "List", {"limit": 1000}),
        [ok(persona, "wallet", "Transactions", {"id": wallet_id, "limit": 1000}) for wallet_id in (WALLET_A, WALLET_B)],
    )


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("wallet", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Create", {"id": WALLET_A, "name": "outsider"}),
    case("Read", {"id": WALLET_A}),
    case("Delete", {"id": WALLET_A}),
    case("List", {}),
    case("Credit", {"id": WALLET_A, "amount": 5}),
    # The owner's idempotency key replays nothing of the owner's in another account.
    case("Debit", {"id": WALLET_A, "amount": 777, "idempotency_key": KEY}),
    case("Balance", {"id": WALLET_A}),
    case("Transactions", {"id": WALLET_A}),
    case("Transfer", {"from_id": WALLET_A, "to_id": WALLET_B, "amount": 1}),
]
