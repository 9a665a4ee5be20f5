"""The time service through the gateway."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.conftest import Persona

SUMMER = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)
WINTER = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


def test_now_in_london_summer(owner: Persona) -> None:
    with time_machine.travel(SUMMER, tick=False):
        response = owner.call("time", "Now", body={"location": "London"})

    assert response.status_code == 200
    assert response.json() == {
        "location": "London",
        "timezone": "Europe/London",
        "localtime": "13:00:00",
        "timestamp": "2026-07-01T13:00:00+01:00",
        "unix": int(SUMMER.timestamp()),
    }


def test_now_defaults_to_utc(owner: Persona) -> None:
    with time_machine.travel(WINTER, tick=False):
        body = owner.call("time", "Now", body={}).json()

    assert body["timezone"] == "UTC"
    assert body["timestamp"] == "2026-01-15T12:00:00+00:00"


@pytest.mark.parametrize(
    ("when", "request_body", "expected"),
    [
        (SUMMER, {"zone": "Europe/London"}, ("Europe/London", "BST", 60, True)),
        (WINTER, {"zone": "europe/london"}, ("Europe/London", "GMT", 0, False)),
        (WINTER, {"location": "New York"}, ("America/New_York", "EST", -300, False)),
        (SUMMER, {"location": "new_york"}, ("America/New_York", "EDT", -240, True)),
        (WINTER, {"zone": "Asia/Kolkata"}, ("Asia/Kolkata", "IST", 330, False)),
        (WINTER, {"location": "Sydney"}, ("Australia/Sydney", "AEDT", 660, True)),
        (WINTER, {"zone": "UTC"}, ("UTC", "UTC", 0, False)),
    ],
)
def test_zone_offset_abbreviation_and_dst(owner: Persona, when: datetime, request_body: dict, expected: tuple) -> None:
    with time_machine.travel(when, tick=False):
        response = owner.call("time", "Zone", body=request_body)
    body = response.json()

    assert response.status_code == 200, body
    assert body["timezone"] == expected[0]
    assert body["abbreviation"] == expected[1]
    assert body["offset"] == expected[2]
    assert body["dst"] is expected[3]


def test_zone_wins_over_location(owner: Persona) -> None:
    body = owner.call("time", "Zone", body={"location": "Home", "zone": "Asia/Tokyo"}).json()

    assert body["location"] == "Home"
    assert body["timezone"] == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("endpoint", "body", "error_id"),
    [
        ("Now", {"zone": "Mars/Olympus_Mons"}, "time.unknown_zone"),
        ("Zone", {"zone": "Mars/Olympus_Mons"}, "time.unknown_zone"),
        ("Now", {"location": "Atlantis"}, "time.unknown_location"),
        ("Zone", {"location": "Atlantis"}, "time.unknown_location"),
        ("Now", {"zone": 5}, "v1.invalid_request"),
        ("Zone", {"zone": "x" * 101}, "v1.invalid_request"),
        ("Zone", {"city": "London"}, "v1.invalid_request"),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict, error_id: str) -> None:
    before = owner.balance
    response = owner.call("time", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == error_id
    assert owner.balance == before
