from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from django.utils import timezone

from accounts.authentication import key_cache
from accounts.models import Account, ApiKey, User
from m3o_web.celery import app as celery_app
from services.ratelimit import get_rate_limiter
from billing.metering import settle_queue_drain
from billing.models import Wallet
from billing.quotas import plan_cache_clear
from catalog.selectors import call_cache_clear
from catalog.models import EndpointPrice
from tests.factories import UserFactory, make_key, personal_account


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    has_redis = bool(os.environ.get("REDIS_URL"))
    has_chromium = os.path.exists("/usr/bin/chromium")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason="needs /usr/bin/chromium: apt-get install -y chromium"))


PRICES_SINCE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Any) -> None:
    # Tests render templates without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    # The default hasher takes about 0.4 s per password on these machines, and most
    # tests sign up two users. Tests about hashing set PASSWORD_HASHERS themselves.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_eager() -> Iterator[None]:
    # Tasks queued by the code under test run in-process; tests about the
    # worker itself start a real one (tests/billing/test_worker.py).
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # allauth keeps rate-limit counters in the cache; tests must not share them.
    cache.clear()
    key_cache.clear()
    plan_cache_clear()
    call_cache_clear()
    get_rate_limiter.cache_clear()
    yield
    cache.clear()
    key_cache.clear()


@pytest.fixture(autouse=True)
def _database_meter(settings: Any) -> None:
    # Most tests read the database right after a call, so they meter on the
    # database; tests of the Redis meter ask for the redis_meter fixture.
    settings.M3O_METER = "database"


@pytest.fixture
def redis_meter(settings: Any) -> Iterator[None]:
    """Meter calls on Redis, as production does (billing/metering.py); flush with billing.flusher."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis: set REDIS_URL")
    settings.M3O_METER = "redis"
    yield
    settle_queue_drain()  # no queued settlement outlives its test


@pytest.fixture(params=["database", "redis"])
def meter(request: pytest.FixtureRequest, settings: Any) -> str:
    """Run the test once on each meter; the Redis run is skipped without REDIS_URL."""
    if request.param == "redis":
        request.getfixturevalue("redis_meter")
    return request.param


@dataclass
class Persona:
    """A signed-up, verified user with a personal account and one all-services key."""

    user: User
    account: Account
    key: ApiKey
    secret: str
    client: Client

    @property
    def balance(self) -> int:
        return Wallet.objects.get(pk=self.account.pk).balance_units

    def set_balance(self, units: int) -> None:
        Wallet.objects.filter(pk=self.account.pk).update(balance_units=units)

    def call(self, service: str = "helloworld", endpoint: str = "Call", body: Any = None, **extra: Any) -> Any:
        if body is None:
            body = {"name": "Alice"}
        payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.client.post(
            f"/v1/{service}/{endpoint}",
            data=payload,
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.secret}", **extra.pop("headers", {})},
            **extra,
        )


def _persona(email: str) -> Persona:
    # Built-in prices take effect when the test database is migrated; date them
    # back so that tests travelling to earlier months still find a price.
    EndpointPrice.objects.filter(effective_from__lte=timezone.now(), effective_from__gt=PRICES_SINCE).update(
        effective_from=PRICES_SINCE
    )
    user = UserFactory(email=email)
    key, secret = make_key(user)
    client = Client()
    client.force_login(user)
    return Persona(user=user, account=personal_account(user), key=key, secret=secret, client=client)


@pytest.fixture
def owner(db: None) -> Persona:
    return _persona("owner@example.com")


@pytest.fixture
def outsider(db: None) -> Persona:
    return _persona("outsider@example.com")


@pytest.fixture
def api_client() -> Iterator[Client]:
    yield Client()


@pytest.fixture
def operator(db: None) -> Client:
    """A Django admin client signed in as a superuser."""
    client = Client()
    client.force_login(User.objects.create_superuser("ops@example.com", "ops passphrase 123"))
    return client
