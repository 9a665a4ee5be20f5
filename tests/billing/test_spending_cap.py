"""The monthly spending cap: its page, its audit trail, and the database meter's enforcement."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import time_machine

from accounts.models import AuditEvent, Membership
from billing.models import LedgerEntry, Wallet
from billing.services import wallet_reconcile
from tests.conftest import Persona
from tests.factories import UserFactory, make_key, personal_account

PRICE = 1_000
URL = "/billing/spending-cap/"


def cap_of(persona: Persona) -> int | None:
    return Wallet.objects.get(pk=persona.account.pk).spending_cap_units


def test_billing_page_links_to_spending_cap(owner: Persona) -> None:
    assert URL in owner.client.get("/billing/").content.decode()


def test_owner_sets_and_clears_cap_with_audit(owner: Persona) -> None:
    page = owner.client.get(URL)
    assert page.status_code == 200
    assert "No cap" in page.content.decode()

    response = owner.client.post(URL, {"cap": "2.50"})
    assert response.status_code == 302
    assert cap_of(owner) == 2_500_000
    assert "$2.500000" in owner.client.get(URL).content.decode()

    owner.client.post(URL, {"clear": "1"})
    assert cap_of(owner) is None
    actions = list(AuditEvent.objects.filter(account=owner.account).order_by("created_at").values_list("action", flat=True))
    assert actions[-2:] == ["billing.spending_cap_set", "billing.spending_cap_cleared"]


@pytest.mark.parametrize("value", ["-1", "abc", "", "1e99", "0.001"])
def test_invalid_cap_is_400_and_changes_nothing(owner: Persona, value: str) -> None:
    response = owner.client.post(URL, {"cap": value})
    assert response.status_code == 400
    assert cap_of(owner) is None


def test_developer_cannot_change_cap(owner: Persona) -> None:
    Membership.objects.filter(account=owner.account, user=owner.user).update(role=Membership.Role.DEVELOPER)
    owner.client.post(URL, {"cap": "1"})
    assert cap_of(owner) is None


def test_signed_out_visitor_is_sent_to_sign_in(client) -> None:
    response = client.get(URL)
    assert response.status_code == 302


def test_database_meter_stops_calls_at_cap(owner: Persona) -> None:
    Wallet.objects.filter(pk=owner.account.pk).update(spending_cap_units=2 * PRICE)

    statuses = [owner.call().status_code for _ in range(3)]
    refused = owner.call()

    assert statuses == [200, 200, 402]
    assert refused.json()["id"] == "v1.spending_cap"
    assert "/billing/spending-cap/" in refused.json()["detail"]
    assert LedgerEntry.objects.filter(wallet_id=owner.account.pk, kind="usage").count() == 2


def test_cap_renews_with_the_month(owner: Persona) -> None:
    Wallet.objects.filter(pk=owner.account.pk).update(spending_cap_units=PRICE)
    with time_machine.travel(dt.datetime(2027, 3, 31, 23, 59, tzinfo=dt.UTC), tick=False):
        assert [owner.call().status_code for _ in range(2)] == [200, 402]
    with time_machine.travel(dt.datetime(2027, 4, 1, 0, 0, 1, tzinfo=dt.UTC), tick=False):
        assert owner.call().status_code == 200


def test_zero_cap_still_allows_free_calls(owner: Persona) -> None:
    from catalog.models import Endpoint

    Endpoint.objects.filter(service__slug="helloworld", name="Call").update(free_quota=1)
    Wallet.objects.filter(pk=owner.account.pk).update(spending_cap_units=0)
    assert [owner.call().status_code for _ in range(2)] == [200, 402]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_calls_cannot_overshoot_cap_on_database(live_server) -> None:
    user = UserFactory()
    account = personal_account(user)
    _, secret = make_key(user)
    Wallet.objects.filter(pk=account.pk).update(spending_cap_units=5 * PRICE + 1)

    def call(_: int) -> httpx.Response:
        return httpx.post(
            f"{live_server.url}/v1/helloworld/Call", content=b'{"name": "A"}',
            headers={"Authorization": f"Bearer {secret}"}, timeout=30,
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(call, range(16)))

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 5
    assert {r.json()["id"] for r in responses if r.status_code == 402} == {"v1.spending_cap"}
    assert LedgerEntry.objects.filter(wallet_id=account.pk, kind="usage").count() == 5
    assert wallet_reconcile(account_id=account.pk).ok
