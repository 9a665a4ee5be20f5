"""Money invariants under parallel calls, against a live server on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db.models import Sum

from billing.models import Hold, LedgerEntry, UsageEvent, Wallet
from billing.services import wallet_reconcile
from tests.factories import UserFactory, make_key, personal_account

PRICE = 1_000

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _call_in_parallel(url: str, secret: str, count: int) -> list[httpx.Response]:
    def call(_: int) -> httpx.Response:
        return httpx.post(url, content=b'{"name": "Alice"}', headers={"Authorization": f"Bearer {secret}"}, timeout=30)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


def test_parallel_calls_never_overdraw(live_server, settings) -> None:
    remainder = 123
    # The wallet is funded through the ledger (the signup credit), so balance == sum(ledger) from the start.
    settings.M3O_SIGNUP_CREDIT_UNITS = 7 * PRICE + remainder
    user = UserFactory()
    account = personal_account(user)
    _, secret = make_key(user)

    responses = _call_in_parallel(f"{live_server.url}/v1/helloworld/Call", secret, 20)

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 7
    assert statuses.count(402) == 13
    for response in responses:
        if response.status_code == 402:
            assert response.json()["id"] == "v1.insufficient_credit"
    assert Wallet.objects.get(pk=account.pk).balance_units == remainder
    assert LedgerEntry.objects.filter(wallet_id=account.pk, kind=LedgerEntry.Kind.USAGE).count() == 7
    ledger_sum = LedgerEntry.objects.filter(wallet_id=account.pk).aggregate(total=Sum("amount_units"))["total"]
    assert ledger_sum == remainder
    assert not Hold.objects.exists()
    assert wallet_reconcile(account_id=account.pk).ok
    assert UsageEvent.objects.filter(account=account).count() == 20
    assert UsageEvent.objects.filter(account=account, cost_units=PRICE).count() == 7
    assert UsageEvent.objects.filter(account=account, status_code=402, cost_units=0).count() == 13
