"""The cache service through the gateway."""

from __future__ import annotations

import pytest
import time_machine
from django.test import override_settings

from tests.conftest import Persona


def cache(persona: Persona, endpoint: str, **body: object):
    return persona.call("cache", endpoint, body=body)


def test_set_then_get_returns_value(owner: Persona) -> None:
    assert cache(owner, "Set", key="a", value="1").json() == {"key": "a", "ttl": 0}

    response = cache(owner, "Get", key="a")

    assert response.status_code == 200
    assert response.json() == {"key": "a", "value": "1", "ttl": 0}


def test_set_replaces_value_and_ttl(owner: Persona) -> None:
    cache(owner, "Set", key="a", value="1", ttl=60)
    cache(owner, "Set", key="a", value="2")

    assert cache(owner, "Get", key="a").json() == {"key": "a", "value": "2", "ttl": 0}


def test_entry_expires_after_ttl(owner: Persona) -> None:
    with time_machine.travel("2026-01-01 00:00:00Z", tick=False):
        cache(owner, "Set", key="short", value="x", ttl=10)
        assert cache(owner, "Get", key="short").json()["ttl"] == 10
    with time_machine.travel("2026-01-01 00:00:11Z", tick=False):
        response = cache(owner, "Get", key="short")
        keys = cache(owner, "ListKeys").json()["keys"]

    assert response.status_code == 404
    assert response.json()["id"] == "cache.get"
    assert keys == []


def test_missing_key_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint in ("Get", "Delete"):
        response = cache(owner, endpoint, key="nothing")
        assert response.status_code == 404
        assert response.json()["id"] == f"cache.{endpoint.lower()}"
    assert owner.balance == before


def test_delete_removes_entry(owner: Persona) -> None:
    cache(owner, "Set", key="a", value="1")

    assert cache(owner, "Delete", key="a").json() == {"key": "a"}
    assert cache(owner, "Get", key="a").status_code == 404


def test_increment_and_decrement_count_from_zero(owner: Persona) -> None:
    assert cache(owner, "Increment", key="n").json() == {"key": "n", "value": 1}
    assert cache(owner, "Increment", key="n", value=5).json() == {"key": "n", "value": 6}
    assert cache(owner, "Decrement", key="n", value=10).json() == {"key": "n", "value": -4}
    assert cache(owner, "Decrement", key="fresh").json() == {"key": "fresh", "value": -1}
    assert cache(owner, "Get", key="n").json()["value"] == "-4"


def test_increment_of_text_is_400(owner: Persona) -> None:
    cache(owner, "Set", key="word", value="hello")

    response = cache(owner, "Increment", key="word")

    assert response.status_code == 400
    assert response.json()["id"] == "cache.increment"
    assert cache(owner, "Get", key="word").json()["value"] == "hello"


def test_list_keys_sorted_with_prefix(owner: Persona) -> None:
    for key in ("user:2", "user:1", "order:1", "user%", "user_"):
        cache(owner, "Set", key=key, value="v")

    assert cache(owner, "ListKeys").json()["keys"] == ["order:1", "user%", "user:1", "user:2", "user_"]
    assert cache(owner, "ListKeys", prefix="user:").json()["keys"] == ["user:1", "user:2"]
    # LIKE wildcards in a prefix match only themselves.
    assert cache(owner, "ListKeys", prefix="user%").json()["keys"] == ["user%"]


def test_keys_with_any_characters(owner: Persona) -> None:
    keys = ["it's", 'a"b', "a__b", "a.b", "'; DROP TABLE builtin_cache_cacheentry; --", "ключ", " "]
    for key in keys:
        assert cache(owner, "Set", key=key, value=key).status_code == 200

    for key in keys:
        assert cache(owner, "Get", key=key).json()["value"] == key
    assert sorted(cache(owner, "ListKeys").json()["keys"]) == sorted(keys)


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=2)
def test_row_limit_is_403(owner: Persona) -> None:
    cache(owner, "Set", key="a", value="1")
    cache(owner, "Set", key="b", value="1")

    assert cache(owner, "Set", key="a", value="replaced").status_code == 200
    for endpoint, body in (("Set", {"key": "c", "value": "1"}), ("Increment", {"key": "c"})):
        response = owner.call("cache", endpoint, body=body)
        assert response.status_code == 403
        assert response.json()["id"] == "cache.row_limit"
    assert cache(owner, "ListKeys").json()["keys"] == ["a", "b"]


def test_expired_entries_do_not_count_toward_limit(owner: Persona) -> None:
    with override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1):
        with time_machine.travel("2026-01-01 00:00:00Z", tick=False):
            cache(owner, "Set", key="old", value="1", ttl=1)
        with time_machine.travel("2026-01-01 00:00:05Z", tick=False):
            assert cache(owner, "Set", key="new", value="1").status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Set", {"key": "a"}),
        ("Set", {"value": "1"}),
        ("Set", {"key": "", "value": "1"}),
        ("Set", {"key": "a" * 513, "value": "1"}),
        ("Set", {"key": "a", "value": 1}),
        ("Set", {"key": "a", "value": "1", "ttl": -1}),
        ("Set", {"key": "a", "value": "1", "extra": True}),
        ("Get", {}),
        ("Get", {"key": 5}),
        ("Delete", {}),
        ("Increment", {"key": "a", "value": 0}),
        ("Increment", {"key": "a", "value": "1"}),
        ("Decrement", {}),
        ("ListKeys", {"prefix": 1}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("cache", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_purge_account_deletes_entries(owner: Persona, outsider: Persona) -> None:
    from services.builtin.cache.models import CacheEntry
    from services.registry import purge_account

    cache(owner, "Set", key="a", value="1")
    cache(outsider, "Set", key="a", value="2")

    purge_account(owner.account.pk)

    assert not CacheEntry.objects.filter(account_id=owner.account.pk).exists()
    assert CacheEntry.objects.filter(account_id=outsider.account.pk).count() == 1
