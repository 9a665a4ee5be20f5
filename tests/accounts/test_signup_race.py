"""Simultaneous signups for one address, against a live server on PostgreSQL."""

from __future__ import annotations

import re
import threading

import httpx
import pytest

from accounts.models import User
from billing.models import LedgerEntry, Wallet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long unguessable passphrase"
PARALLEL = 8


def test_simultaneous_signups_create_one_user(live_server) -> None:
    clients = [httpx.Client(base_url=live_server.url) for _ in range(PARALLEL)]
    tokens = []
    for client in clients:
        page = client.get("/accounts/signup/")
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1))
    barrier = threading.Barrier(PARALLEL)
    statuses: list[int] = []

    def sign_up(index: int) -> None:
        barrier.wait()
        response = clients[index].post(
            "/accounts/signup/",
            data={
                "csrfmiddlewaretoken": tokens[index],
                "email": "Race@Example.com" if index % 2 else "race@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
            headers={"Referer": f"{live_server.url}/accounts/signup/"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=sign_up, args=(index,)) for index in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for client in clients:
        client.close()

    assert len(statuses) == PARALLEL
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(302) >= 1
    assert User.objects.count() == 1
    assert Wallet.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.GRANT).count() == 1
