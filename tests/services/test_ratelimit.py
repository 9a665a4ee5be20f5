"""Rate limits per key and per account, with RateLimit-* headers, on both meters."""

from __future__ import annotations

import pytest

from services.ratelimit import Limits, RedisRateLimiter
from tests.conftest import Persona
from tests.factories import make_key


@pytest.fixture
def tight_limits(settings) -> None:
    settings.M3O_RATE_LIMIT_PER_KEY = 3
    settings.M3O_RATE_LIMIT_PER_ACCOUNT = 5
    settings.M3O_RATE_LIMIT_WINDOW_SECONDS = 3600


def test_every_response_carries_rate_limit_headers(owner: Persona, tight_limits: None, meter: str) -> None:
    for body, status in (({"name": "A"}, 200), ({}, 400)):
        response = owner.call(body=body)
        assert response.status_code == status
        assert response["RateLimit-Limit"] == "3"
        assert int(response["RateLimit-Reset"]) > 0
    assert response["RateLimit-Remaining"] == "1"


def test_key_over_limit_gets_429(owner: Persona, tight_limits: None, meter: str) -> None:
    for _ in range(3):
        assert owner.call().status_code == 200
    before = owner.balance

    response = owner.call()

    assert response.status_code == 429
    assert response.json()["id"] == "v1.rate_limited"
    assert response["RateLimit-Remaining"] == "0"
    assert int(response["Retry-After"]) > 0
    assert owner.balance == before


def test_account_limit_spans_its_keys(owner: Persona, tight_limits: None, meter: str) -> None:
    _, second = make_key(owner.user, name="second")
    statuses = [owner.call().status_code for _ in range(3)]
    owner.secret = second
    statuses += [owner.call().status_code for _ in range(3)]
    assert statuses == [200, 200, 200, 200, 200, 429]


def test_unauthenticated_calls_do_not_count(owner: Persona, tight_limits: None, meter: str) -> None:
    for _ in range(5):
        owner.client.post("/v1/helloworld/Call", data="{}", content_type="application/json")
    assert owner.call().status_code == 200


def test_unreachable_redis_falls_back_to_process_limits() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0")
    limits = Limits(key_limit=2, account_limit=10, window_seconds=3600)
    decisions = [limiter.hit(key_id=1, account_id=1, limits=limits).allowed for _ in range(3)]
    assert decisions == [True, True, False]
