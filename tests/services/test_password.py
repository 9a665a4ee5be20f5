"""The password service through the gateway."""

from __future__ import annotations

import string

import pytest

from tests.conftest import Persona


def generate(persona: Persona, **body: object):
    return persona.call("password", "Generate", body=body)


def test_default_password_has_every_character_set(owner: Persona) -> None:
    response = generate(owner)
    password = response.json()["password"]
    assert response.status_code == 200
    assert len(password) == 16
    assert any(char in string.ascii_lowercase for char in password)
    assert any(char in string.ascii_uppercase for char in password)
    assert any(char in string.digits for char in password)
    assert any(not char.isalnum() for char in password)


def test_only_chosen_sets_are_used(owner: Persona) -> None:
    password = generate(owner, length=64, uppercase=False, special=False).json()["password"]
    assert len(password) == 64
    assert set(password) <= set(string.ascii_lowercase + string.digits)


def test_passwords_differ(owner: Persona) -> None:
    passwords = {generate(owner, length=20).json()["password"] for _ in range(20)}
    assert len(passwords) == 20


@pytest.mark.parametrize(
    ("body", "error_id"),
    [
        ({"lowercase": False, "uppercase": False, "numbers": False, "special": False}, "password.no_character_set"),
        ({"length": 2}, "password.too_short"),
        ({"length": 0}, "v1.invalid_request"),
        ({"length": 257}, "v1.invalid_request"),
        ({"length": "12"}, "v1.invalid_request"),
        ({"numbers": "yes"}, "v1.invalid_request"),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, body: dict, error_id: str) -> None:
    before = owner.balance
    response = generate(owner, **body)
    assert response.status_code == 400
    assert response.json()["id"] == error_id
    assert owner.balance == before


def test_float_length_is_accepted_as_integer(owner: Persona) -> None:
    response = generate(owner, length=16.0)
    assert response.status_code == 200
    assert len(response.json()["password"]) == 16
