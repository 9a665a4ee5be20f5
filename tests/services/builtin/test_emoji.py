"""The emoji service through the gateway."""

from __future__ import annotations

import pytest

from tests.conftest import Persona


@pytest.mark.parametrize(("alias", "expected"), [("thumbsup", "👍"), (":smile:", "😄"), ("red_heart", "❤️"), ("beer", "🍺")])
def test_find_known_alias(owner: Persona, alias: str, expected: str) -> None:
    response = owner.call("emoji", "Find", body={"alias": alias})

    assert response.status_code == 200
    assert response.json() == {"emoji": expected}


@pytest.mark.parametrize(("code", "expected"), [("GB", "🇬🇧"), ("jp", "🇯🇵"), ("US", "🇺🇸")])
def test_flag_of_known_country(owner: Persona, code: str, expected: str) -> None:
    response = owner.call("emoji", "Flag", body={"code": code})

    assert response.status_code == 200
    assert response.json() == {"flag": expected}


def test_print_replaces_known_aliases_only(owner: Persona) -> None:
    response = owner.call("emoji", "Print", body={"text": "ship it :rocket: :thumbsup: :not_an_emoji:"})

    assert response.status_code == 200
    assert response.json() == {"text": "ship it 🚀 👍 :not_an_emoji:"}


def test_print_empty_text(owner: Persona) -> None:
    response = owner.call("emoji", "Print", body={"text": ""})

    assert response.status_code == 200
    assert response.json() == {"text": ""}


@pytest.mark.parametrize(
    ("endpoint", "body", "error_id"),
    [
        ("Find", {"alias": "no_such_emoji"}, "emoji.unknown_alias"),
        ("Find", {"alias": "::"}, "emoji.unknown_alias"),
        ("Find", {"alias": ""}, "v1.invalid_request"),
        ("Find", {}, "v1.invalid_request"),
        ("Flag", {"code": "XX"}, "emoji.unknown_flag"),
        ("Flag", {"code": "1!"}, "emoji.unknown_flag"),
        ("Flag", {"code": "\U0010ffff\U0010ffff"}, "emoji.unknown_flag"),
        ("Flag", {"code": "GBR"}, "v1.invalid_request"),
        ("Flag", {"code": ""}, "v1.invalid_request"),
        ("Print", {"text": "x" * 10_001}, "v1.invalid_request"),
        ("Print", {}, "v1.invalid_request"),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict, error_id: str) -> None:
    before = owner.balance
    response = owner.call("emoji", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == error_id
    assert owner.balance == before
