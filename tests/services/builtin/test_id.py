"""The id service through the gateway."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.conftest import Persona

FORMATS = {
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    "snowflake": r"[1-9][0-9]{17,18}",
    "bigflake": r"[1-9][0-9]{30,38}",
    "ulid": r"[0-7][0-9A-HJKMNP-TV-Z]{25}",
    "ksuid": r"[0-9A-Za-z]{27}",
    "xid": r"[0-9a-v]{20}",
    "nanoid": r"[A-Za-z0-9_-]{21}",
    "shortid": r"[A-Za-z0-9_-]{10}",
}


def generate(persona: Persona, id_type: str) -> str:
    response = persona.call("id", "Generate", body={"type": id_type})
    assert response.status_code == 200, response.content
    assert response.json()["type"] == id_type
    return response.json()["id"]


@pytest.mark.parametrize("id_type", list(FORMATS))
def test_generate_matches_format(owner: Persona, id_type: str) -> None:
    first = generate(owner, id_type)
    second = generate(owner, id_type)

    assert re.fullmatch(FORMATS[id_type], first), first
    assert first != second


def test_default_type_is_uuid_version_4(owner: Persona) -> None:
    response = owner.call("id", "Generate", body={})

    assert response.json()["type"] == "uuid"
    assert uuid.UUID(response.json()["id"]).version == 4


def test_snowflake_fits_64_bits_and_increases(owner: Persona) -> None:
    ids = [int(generate(owner, "snowflake")) for _ in range(5)]

    assert ids == sorted(ids)
    assert all(0 < value < 2**63 for value in ids)
    # The top 41 bits are milliseconds since Twitter's epoch.
    milliseconds = (ids[0] >> 22) + 1_288_834_974_657
    assert abs(milliseconds - time.time() * 1000) < 60_000


def test_bigflake_is_128_bits_with_unix_milliseconds(owner: Persona) -> None:
    value = int(generate(owner, "bigflake"))

    assert value < 2**128
    assert abs((value >> 64) - time.time() * 1000) < 60_000


def test_ulid_encodes_current_milliseconds(owner: Persona) -> None:
    ulid = generate(owner, "ulid")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    milliseconds = 0
    for character in ulid[:10]:
        milliseconds = milliseconds * 32 + alphabet.index(character)

    assert abs(milliseconds - time.time() * 1000) < 60_000


def test_types_lists_every_format(owner: Persona) -> None:
    response = owner.call("id", "Types", body={})

    assert response.status_code == 200
    assert response.json() == {"types": list(FORMATS)}


@pytest.mark.parametrize("body", [{"type": "guid"}, {"type": ""}, {"type": 1}, {"kind": "uuid"}])
def test_invalid_generate_is_400_and_free(owner: Persona, body: dict) -> None:
    before = owner.balance
    response = owner.call("id", "Generate", body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before
