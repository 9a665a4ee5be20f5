"""The wallet service's endpoints, schemas and examples."""

from __future__ import annotations

from typing import Any

from services.builtin.schemas import request_object, response_object
from services.builtin.wallet import handlers
from services.builtin.wallet.models import MAX_BALANCE
from services.registry import BuiltinEndpoint, BuiltinService, Handler, register

WALLET_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The wallet's id."}
AMOUNT = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_BALANCE,
    "description": "A whole number of your own units, at least 1.",
}
IDEMPOTENCY_KEY = {
    "type": "string",
    "minLength": 1,
    "maxLength": 256,
    "description": "A key of your choice; a request repeated with the same key is applied once and returns the first result.",
}
REFERENCE = {"type": "string", "maxLength": 1000, "description": "A note kept with the transaction."}
VISIBLE = {"type": "boolean", "default": True, "description": "Whether your app shows this transaction to the user."}
PAGE = {
    "offset": {"type": "integer", "minimum": 0, "default": 0, "description": "Items to skip."},
    "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 25, "description": "Maximum items returned."},
}
WALLET = response_object(
    {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "balance": {"type": "integer"},
        "created": {"type": "string", "format": "date-time"},
    }
)
TRANSACTION = response_object(
    {
        "id": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "amount": {"type": "integer", "description": "Positive for money in, negative for money out."},
        "balance": {"type": "integer", "description": "The wallet's balance after this transaction."},
        "reference": {"type": "string"},
        "visible": {"type": "boolean"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    }
)
ID_REQUEST = request_object({"id": WALLET_ID}, ["id"])
MOVE_REQUEST = request_object(
    {"id": WALLET_ID, "amount": AMOUNT, "idempotency_key": IDEMPOTENCY_KEY, "reference": REFERENCE, "visible": VISIBLE},
    ["id", "amount"],
)
MOVE_RESPONSE = response_object({"balance": {"type": "integer"}, "transaction": TRANSACTION})

CREATED = "2026-01-01T12:00:00+00:00"
EXAMPLE_WALLET = {"id": "alice", "name": "Alice", "description": "Alice's points", "balance": 0, "created": CREATED}


def _transaction(amount: int, balance: int, kind: str, reference: str, **metadata: str) -> dict[str, Any]:
    return {
        "id": "2f0c8a84-1b0e-4a53-9a59-0e0f3a1c9b11",
        "created": CREATED,
        "amount": amount,
        "balance": balance,
        "reference": reference,
        "visible": True,
        "metadata": {"type": kind, **metadata},
    }


def _endpoint(name: str, handler: Handler, description: str, **spec: Any) -> BuiltinEndpoint:
    return BuiltinEndpoint(name=name, handler=handler, description=description, price_units=100, **spec)


SERVICE = register(
    BuiltinService(
        slug="wallet",
        name="Wallet",
        tagline="Balances, credits and transfers for your own users.",
        description=(
            "Keep wallets for the users of your app, in whole units of your own (points, credits, cents). "
            "Credit, debit and transfer with an idempotency key so that a retried request is applied once; "
            "a debit or transfer larger than the balance is refused. Every change is kept as a transaction. "
            "These wallets are yours to manage and are separate from your M3O balance."
        ),
        category="Payments",
        icon="👛",
        purge_account=handlers.purge_account,
        endpoints=[
            _endpoint(
                "Create",
                handlers.create,
                "Create a wallet with a balance of 0. Give an id of your own, or get a new UUID.",
                request_schema=request_object(
                    {
                        "id": WALLET_ID,
                        "name": {"type": "string", "maxLength": 1000, "description": "The wallet's name."},
                        "description": {"type": "string", "maxLength": 10_000, "description": "What the wallet is for."},
                    },
                    [],
                ),
                response_schema=response_object({"account": WALLET}),
                examples=[
                    {
                        "title": "Create a wallet",
                        "request": {"id": "alice", "name": "Alice", "description": "Alice's points"},
                        "response": {"account": EXAMPLE_WALLET},
                    },
                    {
                        "title": "Create a second wallet",
                        "request": {"id": "bob", "name": "Bob"},
                        "response": {"account": {**EXAMPLE_WALLET, "id": "bob", "name": "Bob", "description": ""}},
                    },
                ],
            ),
            _endpoint(
                "Read",
                handlers.read,
                "Read a wallet with its balance.",
                request_schema=ID_REQUEST,
                response_schema=response_object({"account": WALLET}),
                examples=[{"title": "Read a wallet", "request": {"id": "alice"}, "response": {"account": EXAMPLE_WALLET}}],
            ),
            _endpoint(
                "Credit",
                handlers.credit,
                "Add an amount to a wallet.",
                request_schema=MOVE_REQUEST,
                response_schema=MOVE_RESPONSE,
                examples=[
                    {
                        "title": "Credit 100 points",
                        "request": {"id": "alice", "amount": 100, "idempotency_key": "signup-bonus-alice", "reference": "Sign-up bonus"},
                        "response": {"balance": 100, "transaction": _transaction(100, 100, "credit", "Sign-up bonus")},
                    }
                ],
            ),
            _endpoint(
                "Debit",
                handlers.debit,
                "Take an amount from a wallet. Refused with 400 when the balance is smaller.",
                request_schema=MOVE_REQUEST,
                response_schema=MOVE_RESPONSE,
                examples=[
                    {
                        "title": "Spend 30 points",
                        "request": {"id": "alice", "amount": 30, "idempotency_key": "order-1001", "reference": "Order 1001"},
                        "response": {"balance": 70, "transaction": _transaction(-30, 70, "debit", "Order 1001")},
                    }
                ],
            ),
            _endpoint(
                "Transfer",
                handlers.transfer,
                "Move an amount from one wallet to another, both or neither. Refused with 400 when the source holds less.",
                request_schema=request_object(
                    {
                        "from_id": {**WALLET_ID, "description": "The wallet the amount leaves."},
                        "to_id": {**WALLET_ID, "description": "The wallet the amount goes to."},
                        "amount": AMOUNT,
                        "idempotency_key": IDEMPOTENCY_KEY,
                        "reference": REFERENCE,
                        "visible": VISIBLE,
                    },
                    ["from_id", "to_id", "amount"],
                ),
                response_schema=response_object(
                    {
                        "from_balance": {"type": "integer", "description": "The source wallet's balance after the transfer."},
                        "to_balance": {"type": "integer", "description": "The target wallet's balance after the transfer."},
                    }
                ),
                examples=[
                    {
                        "title": "Give Bob 20 points",
                        "request": {"from_id": "alice", "to_id": "bob", "amount": 20, "idempotency_key": "gift-7"},
                        "response": {"from_balance": 50, "to_balance": 20},
                    }
                ],
            ),
            _endpoint(
                "Balance",
                handlers.balance,
                "Read a wallet's balance.",
                request_schema=ID_REQUEST,
                response_schema=response_object({"balance": {"type": "integer"}}),
                examples=[{"title": "Alice's balance", "request": {"id": "alice"}, "response": {"balance": 50}}],
            ),
            _endpoint(
                "Transactions",
                handlers.transactions,
                "List a wallet's transactions, newest first.",
                request_schema=request_object({"id": WALLET_ID, **PAGE}, ["id"]),
                response_schema=response_object({"transactions": {"type": "array", "items": TRANSACTION}}),
                examples=[
                    {
                        "title": "Bob's transactions",
                        "request": {"id": "bob"},
                        "response": {"transactions": [_transaction(20, 20, "transfer", "", from_id="alice")]},
                    }
                ],
            ),
            _endpoint(
                "List",
                handlers.list_wallets,
                "List wallets, oldest first.",
                request_schema=request_object(PAGE, []),
                response_schema=response_object({"accounts": {"type": "array", "items": WALLET}}),
                examples=[{"title": "List wallets", "request": {}, "response": {"accounts": [{**EXAMPLE_WALLET, "balance": 50}]}}],
            ),
            _endpoint(
                "Delete",
                handlers.delete,
                "Delete a wallet and its transactions.",
                request_schema=ID_REQUEST,
                response_schema=response_object({"id": {"type": "string"}}),
                examples=[{"title": "Delete a wallet", "request": {"id": "bob"}, "response": {"id": "bob"}}],
            ),
        ],
    )
)
