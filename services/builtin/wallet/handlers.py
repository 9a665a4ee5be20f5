"""The wallet service's handlers.

Races: every balance change locks the wallet rows it changes (``select_for_update``) and
re-reads the balance under the lock, so parallel debits never overdraw. A transfer locks
its two wallets in primary-key order, so transfers in opposite directions wait for each
other instead of deadlocking. An idempotency key is stored in the same transaction as the
change it names: of two concurrent requests with one key, the second fails on the unique
constraint, rolls back, and replays the first one's result.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from services.builtin.quota import check_room
from services.builtin.wallet.models import MAX_BALANCE, EndUserWallet, WalletOperation, WalletTransaction
from services.kit import BadRequest, CallContext, NotFound


def _error_id(context: CallContext) -> str:
    return f"wallet.{context.endpoint.lower()}"


def _wallets(context: CallContext) -> QuerySet[EndUserWallet]:
    return EndUserWallet.objects.filter(account_id=context.account_id)


def _missing(context: CallContext, wallet_id: str, field: str = "id") -> NotFound:
    return NotFound(
        f"No wallet with id {wallet_id[:100]!r}.", error_id=_error_id(context), fields={field: "No such wallet."}
    )


def _check_rows(context: CallContext, adding: int) -> None:
    stored = _wallets(context).count() + WalletTransaction.objects.filter(account_id=context.account_id).count()
    check_room(account_id=context.account_id, service="wallet", stored=stored, adding=adding)


def _locked(context: CallContext, wallet_id: str, field: str = "id") -> EndUserWallet:
    wallet = _wallets(context).select_for_update().filter(wallet_id=wallet_id).first()
    if wallet is None:
        raise _missing(context, wallet_id, field)
    return wallet


def _replay(context: CallContext, *, kind: str, wallet_id: str, to_wallet_id: str, amount: int) -> dict[str, Any] | None:
    """Return the stored result of an earlier request with this idempotency key, or None if there is none."""
    key = context.body.get("idempotency_key")
    if not key:
        return None
    operation = WalletOperation.objects.filter(account_id=context.account_id, idempotency_key=key).first()
    if operation is None:
        return None
    same = (operation.kind, operation.wallet_id, operation.to_wallet_id, operation.amount) == (
        kind,
        wallet_id,
        to_wallet_id,
        amount,
    )
    if not same:
        raise BadRequest(
            f"The idempotency key {key[:100]!r} was already used for a different request. "
            "Use a new key for each new operation.",
            error_id=_error_id(context),
            fields={"idempotency_key": "Already used for a different request."},
        )
    return operation.result


def _record(context: CallContext, *, kind: str, wallet_id: str, to_wallet_id: str, amount: int, result: dict[str, Any]) -> None:
    key = context.body.get("idempotency_key")
    if key:
        WalletOperation.objects.create(
            account_id=context.account_id,
            idempotency_key=key,
            kind=kind,
            wallet_id=wallet_id,
            to_wallet_id=to_wallet_id,
            amount=amount,
            result=result,
        )


def _book(context: CallContext, wallet: EndUserWallet, amount: int, metadata: dict[str, str]) -> WalletTransaction:
    """Change a locked wallet's balance by amount and write its ledger row."""
    wallet.balance += amount
    wallet.save(update_fields=["balance", "updated_at"])
    return WalletTransaction.objects.create(
        account_id=context.account_id,
        wallet=wallet,
        transaction_id=uuid.uuid4(),
        amount=amount,
        balance_after=wallet.balance,
        reference=context.body.get("reference", ""),
        visible=context.body.get("visible", True),
        metadata=metadata,
    )


def _too_much(context: CallContext, wallet: EndUserWallet) -> BadRequest:
    return BadRequest(
        f"Wallet {wallet.wallet_id[:100]!r} would hold more than {MAX_BALANCE}, the largest balance allowed.",
        error_id=_error_id(context),
        fields={"amount": "Too large for the wallet's balance."},
    )


def _short(context: CallContext, wallet: EndUserWallet, amount: int) -> BadRequest:
    return BadRequest(
        f"Wallet {wallet.wallet_id[:100]!r} holds {wallet.balance}, less than the {amount} asked for.",
        error_id=_error_id(context),
        fields={"amount": "More than the wallet's balance."},
    )


def _idempotent(
    context: CallContext, kind: str, wallet_id: str, to_wallet_id: str, apply: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run apply() once per idempotency key: a repeated key returns the first result."""
    amount = context.body["amount"]
    replayed = _replay(context, kind=kind, wallet_id=wallet_id, to_wallet_id=to_wallet_id, amount=amount)
    if replayed is not None:
        return replayed
    try:
        with transaction.atomic():
            result = apply()
            _record(context, kind=kind, wallet_id=wallet_id, to_wallet_id=to_wallet_id, amount=amount, result=result)
    except IntegrityError:
        # A concurrent request with the same key committed first; everything here was rolled back.
        replayed = _replay(context, kind=kind, wallet_id=wallet_id, to_wallet_id=to_wallet_id, amount=amount)
        if replayed is None:
            raise
        return replayed
    return result


def create(context: CallContext) -> dict[str, Any]:
    wallet_id = context.body.get("id") or str(uuid.uuid4())

    with transaction.atomic():
        _check_rows(context, adding=1)
        try:
            with transaction.atomic():
                wallet = EndUserWallet.objects.create(
                    account_id=context.account_id,
                    wallet_id=wallet_id,
                    name=context.body.get("name", ""),
                    description=context.body.get("description", ""),
                )
        except IntegrityError:
            raise BadRequest(
                f"A wallet with id {wallet_id[:100]!r} already exists.",
                error_id=_error_id(context),
                fields={"id": "Already exists."},
            ) from None
    return {"account": wallet.as_dict()}


def read(context: CallContext) -> dict[str, Any]:
    wallet = _wallets(context).filter(wallet_id=context.body["id"]).first()
    if wallet is None:
        raise _missing(context, context.body["id"])
    return {"account": wallet.as_dict()}


def balance(context: CallContext) -> dict[str, Any]:
    wallet = _wallets(context).filter(wallet_id=context.body["id"]).first()
    if wallet is None:
        raise _missing(context, context.body["id"])
    return {"balance": wallet.balance}


def delete(context: CallContext) -> dict[str, Any]:
    """Delete a wallet with its transactions, whatever its balance."""
    deleted, _ = _wallets(context).filter(wallet_id=context.body["id"]).delete()
    if not deleted:
        raise _missing(context, context.body["id"])
    return {"id": context.body["id"]}


def list_wallets(context: CallContext) -> dict[str, Any]:
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 25)
    wallets = _wallets(context).order_by("created_at", "wallet_id")[offset : offset + limit]
    return {"accounts": [wallet.as_dict() for wallet in wallets]}


def credit(context: CallContext) -> dict[str, Any]:
    wallet_id, amount = context.body["id"], context.body["amount"]

    def apply() -> dict[str, Any]:
        wallet = _locked(context, wallet_id)
        if wallet.balance + amount > MAX_BALANCE:
            raise _too_much(context, wallet)
        _check_rows(context, adding=1)
        booked = _book(context, wallet, amount, {"type": "credit"})
        return {"balance": wallet.balance, "transaction": booked.as_dict()}

    return _idempotent(context, WalletOperation.Kind.CREDIT, wallet_id, "", apply)


def debit(context: CallContext) -> dict[str, Any]:
    wallet_id, amount = context.body["id"], context.body["amount"]

    def apply() -> dict[str, Any]:
        wallet = _locked(context, wallet_id)
        if wallet.balance < amount:
            raise _short(context, wallet, amount)
        _check_rows(context, adding=1)
        booked = _book(context, wallet, -amount, {"type": "debit"})
        return {"balance": wallet.balance, "transaction": booked.as_dict()}

    return _idempotent(context, WalletOperation.Kind.DEBIT, wallet_id, "", apply)


def transfer(context: CallContext) -> dict[str, Any]:
    from_id, to_id, amount = context.body["from_id"], context.body["to_id"], context.body["amount"]
    if from_id == to_id:
        raise BadRequest(
            "from_id and to_id name the same wallet; a transfer needs two wallets.",
            error_id=_error_id(context),
            fields={"to_id": "Same wallet as from_id."},
        )

    def apply() -> dict[str, Any]:
        # Lock in primary-key order, the same order for every transfer, so that two transfers
        # in opposite directions cannot each hold one wallet while waiting for the other.
        found = {
            wallet.wallet_id: wallet.pk
            for wallet in _wallets(context).filter(wallet_id__in=[from_id, to_id]).only("pk", "wallet_id")
        }
        for wallet_id, field in ((from_id, "from_id"), (to_id, "to_id")):
            if wallet_id not in found:
                raise _missing(context, wallet_id, field)
        locked: dict[str, EndUserWallet] = {}
        for pk in sorted(found.values()):
            wallet = _wallets(context).select_for_update().filter(pk=pk).first()
            if wallet is None:  # deleted since the lookup above
                raise _missing(context, from_id if pk == found[from_id] else to_id)
            locked[wallet.wallet_id] = wallet
        source, target = locked[from_id], locked[to_id]

        if source.balance < amount:
            raise _short(context, source, amount)
        if target.balance + amount > MAX_BALANCE:
            raise _too_much(context, target)
        _check_rows(context, adding=2)
        _book(context, source, -amount, {"type": "transfer", "to_id": to_id})
        _book(context, target, amount, {"type": "transfer", "from_id": from_id})
        return {"from_balance": source.balance, "to_balance": target.balance}

    return _idempotent(context, WalletOperation.Kind.TRANSFER, from_id, to_id, apply)


def transactions(context: CallContext) -> dict[str, Any]:
    """List a wallet's transactions, newest first, a page at a time."""
    wallet = _wallets(context).filter(wallet_id=context.body["id"]).first()
    if wallet is None:
        raise _missing(context, context.body["id"])
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 25)
    rows = wallet.transactions.order_by("-created_at", "-pk")[offset : offset + limit]
    return {"transactions": [row.as_dict() for row in rows]}


def purge_account(account_id: int) -> None:
    WalletOperation.objects.filter(account_id=account_id).delete()
    WalletTransaction.objects.filter(account_id=account_id).delete()
    EndUserWallet.objects.filter(account_id=account_id).delete()
