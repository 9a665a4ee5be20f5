"""Races against a live server on PostgreSQL: real threads, each with its own HTTP connection.

Overdraft, rate-limit exactness, signups for one address, wallet transfers in
both directions at once and raced idempotency keys. Every test starts its
requests together behind a barrier. The number of parallel calls tried is
printed in the run's summary (tests/reliability/conftest.py).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from django.db.models import Sum

from accounts.models import User
from billing.flusher import meter_flush
from billing.models import Hold, LedgerEntry, UsageEvent, Wallet
from billing.services import wallet_reconcile
from services.builtin.wallet.models import EndUserWallet, WalletTransaction
from tests.factories import account_with_key
from tests.reliability.conftest import tally

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PRICE = 1_000  # helloworld/Call
T = TypeVar("T")
R = TypeVar("R")


def race(work: Callable[[T], R], items: Sequence[T], *, threads: int | None = None) -> list[R]:
    """Run ``work`` on every item from ``threads`` threads (one per item by default); the first calls start together."""
    threads = min(threads or len(items), len(items))
    barrier = threading.Barrier(threads)

    def run(numbered: tuple[int, T]) -> R:
        index, item = numbered
        if index < threads:  # each of these blocks its thread until all are in, so they run on distinct threads
            barrier.wait(timeout=60)
        return work(item)

    tally("parallel calls tried", len(items))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, enumerate(items)))


def poster(base_url: str, secret: str) -> Callable[[tuple[str, Any]], httpx.Response]:
    """POST ``(path, body)`` with the key, each call on a fresh connection."""

    def post(call: tuple[str, Any]) -> httpx.Response:
        path, body = call
        return httpx.post(
            f"{base_url}{path}", content=json.dumps(body).encode(), headers={"Authorization": f"Bearer {secret}"}, timeout=60
        )

    return post


def settle_meter(settings: Any) -> None:
    if settings.M3O_METER == "redis":
        while meter_flush().events:
            pass


@pytest.mark.parametrize("meter", ["database", pytest.param("redis", marks=pytest.mark.redis)])
def test_parallel_calls_never_overdraw(live_server, settings, meter: str) -> None:
    settings.M3O_METER = meter
    remainder = 123
    # The wallet is funded through the ledger (the signup credit), so balance == sum(ledger) from the start.
    settings.M3O_SIGNUP_CREDIT_UNITS = 7 * PRICE + remainder
    account, secret = account_with_key()

    responses = race(poster(live_server.url, secret), [("/v1/helloworld/Call", {"name": "Alice"})] * 20)
    settle_meter(settings)

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 7
    assert statuses.count(402) == 13
    for response in responses:
        if response.status_code == 402:
            assert response.json()["id"] == "v1.insufficient_credit"
    assert Wallet.objects.get(pk=account.pk).balance_units == remainder
    usage = LedgerEntry.objects.filter(wallet_id=account.pk, kind=LedgerEntry.Kind.USAGE)
    assert -usage.aggregate(total=Sum("amount_units"))["total"] == statuses.count(200) * PRICE
    ledger_sum = LedgerEntry.objects.filter(wallet_id=account.pk).aggregate(total=Sum("amount_units"))["total"]
    assert ledger_sum == remainder
    assert not Hold.objects.exists()
    assert wallet_reconcile(account_id=account.pk).ok
    assert UsageEvent.objects.filter(account=account, cost_units=PRICE).count() == 7
    assert UsageEvent.objects.filter(account=account, status_code=402, cost_units=0).count() == 13


@pytest.mark.redis
def test_parallel_calls_hit_rate_limit_exactly(live_server, settings) -> None:
    settings.M3O_RATE_LIMIT_PER_KEY = 50
    settings.M3O_RATE_LIMIT_PER_ACCOUNT = 1000
    settings.M3O_RATE_LIMIT_WINDOW_SECONDS = 3600
    _, secret = account_with_key()

    responses = race(poster(live_server.url, secret), [("/v1/helloworld/Call", {"name": "A"})] * 200, threads=40)

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 50
    assert statuses.count(429) == 150


PASSWORD = "a-long unguessable passphrase"


def test_simultaneous_signups_create_one_user(live_server) -> None:
    parallel = 8
    clients = [httpx.Client(base_url=live_server.url) for _ in range(parallel)]
    tokens = []
    for client in clients:
        page = client.get("/accounts/signup/")
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1))

    def sign_up(index: int) -> int:
        return clients[index].post(
            "/accounts/signup/",
            data={
                "csrfmiddlewaretoken": tokens[index],
                "email": "Race@Example.com" if index % 2 else "race@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
            headers={"Referer": f"{live_server.url}/accounts/signup/"},
        ).status_code

    try:
        statuses = race(sign_up, range(parallel))
    finally:
        for client in clients:
            client.close()

    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(302) >= 1
    assert User.objects.count() == 1
    assert Wallet.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.GRANT).count() == 1


def test_wallet_transfers_both_ways_keep_exact_totals(live_server) -> None:
    account, secret = account_with_key()
    post = poster(live_server.url, secret)
    for wallet_id in ("a", "b"):
        assert post(("/v1/wallet/Create", {"id": wallet_id})).status_code == 200
        assert post(("/v1/wallet/Credit", {"id": wallet_id, "amount": 500})).status_code == 200

    # Transfers in both directions at once, with debits of both wallets, more than the wallets can cover.
    calls = []
    for _ in range(8):
        calls.append(("/v1/wallet/Transfer", {"from_id": "a", "to_id": "b", "amount": 70}))
        calls.append(("/v1/wallet/Transfer", {"from_id": "b", "to_id": "a", "amount": 70}))
        calls.append(("/v1/wallet/Debit", {"id": "a", "amount": 90}))
        calls.append(("/v1/wallet/Debit", {"id": "b", "amount": 90}))
    responses = race(post, calls, threads=8)

    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {200, 400}, [response.content for response in responses if response.status_code not in (200, 400)]
    assert 400 in statuses  # the debits ask for 1440 of the 1000 held, so some must be refused
    debited = sum(
        body["amount"] for (path, body), response in zip(calls, responses) if path.endswith("Debit") and response.status_code == 200
    )
    wallets = EndUserWallet.objects.filter(account=account)
    assert all(row.balance >= 0 for row in wallets)
    assert sum(row.balance for row in wallets) == 1000 - debited
    for row in wallets:
        assert WalletTransaction.objects.filter(wallet=row).aggregate(total=Sum("amount"))["total"] == row.balance


def test_raced_wallet_idempotency_key_applies_once(live_server) -> None:
    _, secret = account_with_key()
    post = poster(live_server.url, secret)
    post(("/v1/wallet/Create", {"id": "a"}))
    post(("/v1/wallet/Create", {"id": "b"}))
    post(("/v1/wallet/Credit", {"id": "a", "amount": 100}))
    body = {"from_id": "a", "to_id": "b", "amount": 10, "idempotency_key": "once"}

    responses = race(post, [("/v1/wallet/Transfer", body)] * 6)

    assert {response.status_code for response in responses} == {200}
    assert all(response.json() == {"from_balance": 90, "to_balance": 10} for response in responses)
    assert EndUserWallet.objects.get(wallet_id="b").balance == 10


@pytest.mark.parametrize("meter", ["database", pytest.param("redis", marks=pytest.mark.redis)])
def test_raced_idempotency_key_runs_and_charges_once(live_server, settings, meter: str) -> None:
    settings.M3O_METER = meter
    account, secret = account_with_key()

    def call(_: int) -> httpx.Response:
        return httpx.post(
            f"{live_server.url}/v1/password/Generate",
            content=json.dumps({"length": 24}).encode(),
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": "parallel-1"},
            timeout=60,
        )

    responses = race(call, range(6))
    settle_meter(settings)

    assert {response.status_code for response in responses} == {200}
    assert len({response.content for response in responses}) == 1
    assert LedgerEntry.objects.filter(wallet_id=account.pk, kind=LedgerEntry.Kind.USAGE).count() == 1
    assert UsageEvent.objects.filter(account=account).count() == 1
    assert wallet_reconcile(account_id=account.pk).ok
