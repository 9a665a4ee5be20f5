"""Idempotency-Key: repeats replay the first response and are charged once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from billing.models import LedgerEntry, UsageEvent
from services.models import IdempotencyRecord
from tests.conftest import Persona


def keyed_call(persona: Persona, key: str, body: dict | None = None):
    return persona.call("password", "Generate", body=body or {"length": 20}, headers={"Idempotency-Key": key})


def test_repeat_returns_same_response_and_charges_once(owner: Persona) -> None:
    before = owner.balance
    first = keyed_call(owner, "order-1")
    second = keyed_call(owner, "order-1")

    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert second["Idempotent-Replayed"] == "true"
    assert second["X-Request-Id"] == first["X-Request-Id"]
    assert second["X-M3O-Cost"] == "0"
    assert owner.balance == before - int(first["X-M3O-Cost"])
    assert LedgerEntry.objects.filter(kind="usage").count() == 1
    assert UsageEvent.objects.count() == 1


def test_same_key_with_other_body_is_422(owner: Persona) -> None:
    keyed_call(owner, "order-2", {"length": 20})
    response = keyed_call(owner, "order-2", {"length": 21})
    assert response.status_code == 422
    assert response.json()["id"] == "v1.idempotency_mismatch"


def test_keys_are_per_account(owner: Persona, outsider: Persona) -> None:
    first = keyed_call(owner, "shared-key")
    second = keyed_call(outsider, "shared-key")
    assert second.status_code == 200
    assert "Idempotent-Replayed" not in second
    assert first.content != second.content


def test_key_expires_after_24_hours(owner: Persona) -> None:
    first = keyed_call(owner, "order-3")
    with time_machine.travel(dt.timedelta(hours=24, seconds=1)):
        again = keyed_call(owner, "order-3")
    assert "Idempotent-Replayed" not in again
    assert again.content != first.content


def test_call_refused_before_running_can_be_retried(owner: Persona) -> None:
    owner.set_balance(0)
    assert keyed_call(owner, "order-4").status_code == 402
    owner.set_balance(1_000_000)
    response = keyed_call(owner, "order-4")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response


def test_handler_error_is_replayed(owner: Persona) -> None:
    body = {"length": 2}  # too short for four character sets: the handler rejects it
    first = keyed_call(owner, "order-5", body)
    second = keyed_call(owner, "order-5", body)
    assert first.status_code == second.status_code == 400
    assert second["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "naïve"])
def test_malformed_key_is_400(owner: Persona, key: str) -> None:
    response = owner.client.post(
        "/v1/password/Generate",
        data="{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {owner.secret}", "Idempotency-Key": key},
    )
    assert response.status_code == 400
    assert response.json()["id"] == "v1.bad_idempotency_key"
    assert not IdempotencyRecord.objects.exists()
