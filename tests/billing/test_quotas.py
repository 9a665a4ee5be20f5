"""Free quotas per endpoint and the monthly free allowance, through the gateway."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import time_machine

from billing.models import FreeUsage, UsageEvent
from catalog.models import Endpoint
from tests.conftest import Persona
from tests.factories import UserFactory, make_key, set_price

PRICE = 1_000


def set_free_quota(quota: int) -> None:
    Endpoint.objects.filter(service__slug="helloworld", name="Call").update(free_quota=quota)


def costs(persona: Persona, count: int, body: dict | None = None) -> list[int]:
    return [int(persona.call(body=body)["X-M3O-Cost"]) for _ in range(count)]


def test_endpoint_free_quota_then_price(owner: Persona) -> None:
    set_free_quota(2)
    before = owner.balance
    assert costs(owner, 4) == [0, 0, PRICE, PRICE]
    assert owner.balance == before - 2 * PRICE


def test_failed_calls_do_not_use_free_quota(owner: Persona) -> None:
    set_free_quota(2)
    assert costs(owner, 3, body={}) == [0, 0, 0]  # 400s: the body misses "name"
    assert costs(owner, 3) == [0, 0, PRICE]


def test_free_quota_is_per_account(owner: Persona, outsider: Persona) -> None:
    set_free_quota(1)
    assert costs(owner, 2) == [0, PRICE]
    assert costs(outsider, 1) == [0]


def test_free_quota_renews_each_month(owner: Persona) -> None:
    # Future dates: the price history starts when the test database was built.
    set_free_quota(1)
    with time_machine.travel(dt.datetime(2027, 5, 31, 23, 59, 59, tzinfo=dt.UTC), tick=False):
        assert costs(owner, 2) == [0, PRICE]
    with time_machine.travel(dt.datetime(2027, 6, 1, 0, 0, 0, tzinfo=dt.UTC), tick=False):
        assert costs(owner, 2) == [0, PRICE]


def test_free_endpoint_costs_one_unit_past_allowance(owner: Persona, settings) -> None:
    settings.M3O_FREE_CALLS_PER_MONTH = 2
    settings.M3O_UNITS_PAST_ALLOWANCE = 1
    set_price("helloworld", "Call", 0)
    before = owner.balance
    assert costs(owner, 4) == [0, 0, 1, 1]
    assert owner.balance == before - 2


def test_allowance_does_not_cover_priced_endpoints(owner: Persona, settings) -> None:
    settings.M3O_FREE_CALLS_PER_MONTH = 100
    assert costs(owner, 2) == [PRICE, PRICE]
    assert not FreeUsage.objects.filter(scope="allowance").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_calls_use_quota_exactly(live_server) -> None:
    set_free_quota(5)
    user = UserFactory()
    _, secret = make_key(user)

    def call(_: int) -> int:
        response = httpx.post(
            f"{live_server.url}/v1/helloworld/Call",
            content=b'{"name": "A"}',
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        )
        return int(response.headers["X-M3O-Cost"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        charged = list(pool.map(call, range(20)))

    assert charged.count(0) == 5
    assert charged.count(PRICE) == 15
    assert UsageEvent.objects.filter(cost_units=0).count() == 5
    assert FreeUsage.objects.get().used == 5
