"""The otp service through the gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.conftest import Persona

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def generate(persona: Persona, **body: object) -> str:
    response = persona.call("otp", "Generate", body={"id": "alice@example.com", **body})
    assert response.status_code == 200, response.content
    return response.json()["code"]


def validate(persona: Persona, code: str, user_id: str = "alice@example.com") -> bool:
    response = persona.call("otp", "Validate", body={"id": user_id, "code": code})
    assert response.status_code == 200, response.content
    return response.json()["success"]


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def test_code_is_valid_once(owner: Persona) -> None:
    code = generate(owner)

    assert len(code) == 6
    assert code.isdigit()
    assert validate(owner, code) is True
    assert validate(owner, code) is False


@pytest.mark.parametrize("size", [4, 10])
def test_code_size_limits(owner: Persona, size: int) -> None:
    assert len(generate(owner, size=size)) == size


def test_code_expires(owner: Persona) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        code = generate(owner, expiry=30)
        traveller.move_to(START + timedelta(seconds=31))

        assert validate(owner, code) is False


def test_code_valid_before_expiry(owner: Persona) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        code = generate(owner, expiry=30)
        traveller.move_to(START + timedelta(seconds=29))

        assert validate(owner, code) is True


def test_guesses_are_limited_per_id(owner: Persona) -> None:
    code = generate(owner)
    for _ in range(5):
        assert validate(owner, wrong(code)) is False

    assert validate(owner, code) is False


def test_new_code_replaces_old(owner: Persona) -> None:
    first = generate(owner)
    second = generate(owner)

    if first != second:
        assert validate(owner, first) is False
    assert validate(owner, second) is True


def test_codes_are_per_id_and_account(owner: Persona, outsider: Persona) -> None:
    code = generate(owner)

    assert validate(owner, code, user_id="bob@example.com") is False
    assert validate(outsider, code) is False
    assert validate(owner, code) is True


def test_unknown_id_is_not_valid(owner: Persona) -> None:
    assert validate(owner, "123456", user_id="nobody@example.com") is False


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Generate", {}),
        ("Generate", {"id": ""}),
        ("Generate", {"id": "a", "size": 3}),
        ("Generate", {"id": "a", "size": 11}),
        ("Generate", {"id": "a", "expiry": 0}),
        ("Generate", {"id": "a", "expiry": 86_401}),
        ("Validate", {"id": "a"}),
        ("Validate", {"id": "a", "code": ""}),
        ("Validate", {"id": "a", "code": "12345678901"}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance
    response = owner.call("otp", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_closing_the_account_forgets_its_codes(owner: Persona, outsider: Persona) -> None:
    from services.registry import purge_account

    code = generate(owner)
    other = generate(outsider)
    purge_account(owner.account.pk)

    assert validate(owner, code) is False
    assert validate(outsider, other) is True
