"""API key authentication: checksum, in-process cache, last-used writes and invalidation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.authentication import key_cache
from accounts.keys import generate_key, looks_like_key
from accounts.models import Account, ApiKey
from accounts.services import api_key_revoke
from tests.conftest import Persona


def key_queries(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in context.captured_queries if "accounts_apikey" in query["sql"]]


def test_generated_keys_pass_their_checksum() -> None:
    for _ in range(200):
        key = generate_key()
        assert looks_like_key(key)
        assert len(key) == 44


@pytest.mark.parametrize("position", [4, 20, 37, 38, 43])
def test_one_mistyped_character_fails_checksum(position: int) -> None:
    key = generate_key()
    replacement = "A" if key[position] != "A" else "B"
    assert not looks_like_key(key[:position] + replacement + key[position + 1 :])


def test_wrong_checksum_is_rejected_without_query(owner: Persona) -> None:
    mistyped = owner.secret[:-1] + ("x" if owner.secret[-1] != "x" else "y")
    with CaptureQueriesContext(connection) as queries:
        assert key_cache.authenticate(mistyped) is None
    assert len(queries) == 0

    response = owner.call(headers={"Authorization": f"Bearer {mistyped}"})
    assert response.status_code == 401
    assert response.json()["id"] == "v1.invalid_key"


def test_key_seen_recently_needs_no_query(owner: Persona) -> None:
    assert key_cache.authenticate(owner.secret) is not None
    with CaptureQueriesContext(connection) as queries:
        state = key_cache.authenticate(owner.secret)
    assert state is not None
    assert state.key_id == owner.key.pk
    assert len(queries) == 0


def test_gateway_call_neither_reads_nor_writes_key_when_cached(owner: Persona) -> None:
    assert owner.call().status_code == 200
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert owner.call().status_code == 200
    assert key_queries(queries) == []


def test_last_used_is_written_once_per_window(owner: Persona, settings) -> None:
    settings.M3O_KEY_LAST_USED_RESOLUTION_SECONDS = 60
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert owner.call().status_code == 200
    updates = [sql for sql in key_queries(queries) if sql.startswith("UPDATE")]
    assert len(updates) == 1
    owner.key.refresh_from_db()
    assert owner.key.last_used_at is not None


def test_revocation_applies_to_cached_key(owner: Persona) -> None:
    assert owner.call().status_code == 200
    api_key_revoke(key=owner.key, actor=owner.user)
    assert owner.call().json()["id"] == "v1.key_revoked"


def test_admin_style_save_invalidates_cached_key(owner: Persona) -> None:
    assert owner.call().status_code == 200
    key = ApiKey.objects.get(pk=owner.key.pk)
    key.scopes = ["cache"]
    key.save()
    assert owner.call().json()["id"] == "v1.key_scope"


def test_suspension_applies_to_cached_key(owner: Persona) -> None:
    assert owner.call().status_code == 200
    account = Account.objects.get(pk=owner.account.pk)
    account.status = Account.Status.SUSPENDED
    account.status_message = "Card declined."
    account.save()
    response = owner.call()
    assert response.status_code == 403
    assert "Card declined." in response.json()["detail"]


def test_unreachable_cache_falls_back_to_database(owner: Persona, settings) -> None:
    from accounts import authentication

    # Nothing listens on port 1, so every cache read fails at once.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    assert authentication._read_epoch() is authentication._unreachable

    assert key_cache.authenticate(owner.secret) is not None
    api_key_revoke(key=owner.key, actor=owner.user)
    state = key_cache.authenticate(owner.secret)
    assert state is not None
    assert state.is_revoked
