"""The location service through the gateway, and its distance arithmetic."""

from __future__ import annotations

import math

import pytest
import time_machine
from django.test import override_settings

from services.builtin.location.geo import EARTH_RADIUS_M, MAX_DISTANCE_M, bounding_box, distance_m
from tests.conftest import Persona


def location(persona: Persona, endpoint: str, **body: object):
    return persona.call("location", endpoint, body=body)


def save(persona: Persona, entity_id: str, lat: float, lon: float, kind: str = "bike") -> None:
    body = {"entity": {"id": entity_id, "type": kind, "location": {"latitude": lat, "longitude": lon}}}
    assert persona.call("location", "Save", body=body).status_code == 200


def found(persona: Persona, lat: float, lon: float, radius: float, **extra: object) -> list[str]:
    response = location(persona, "Search", center={"latitude": lat, "longitude": lon}, radius=radius, **extra)
    assert response.status_code == 200, response.content
    return [entity["id"] for entity in response.json()["entities"]]


def test_known_distances() -> None:
    # London to Paris is about 343.5 km on the sphere; a quarter meridian is a quarter of the circumference.
    assert distance_m(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343_550, rel=2e-3)
    assert distance_m(0, 0, 90, 0) == pytest.approx(math.pi / 2 * EARTH_RADIUS_M)
    assert distance_m(0, 179.9, 0, -179.9) == pytest.approx(math.radians(0.2) * EARTH_RADIUS_M)
    assert distance_m(10, 20, 10, 20) == 0
    assert distance_m(0, 0, 0, 180) == pytest.approx(MAX_DISTANCE_M)


@pytest.mark.parametrize(("lat", "lon", "radius"), [(0, 0, 1000), (60, 179.99, 5000), (-89.99, 10, 5000), (45, -179.995, 2000)])
def test_bounding_box_holds_every_point_of_the_circle(lat: float, lon: float, radius: float) -> None:
    box = bounding_box(lat, lon, radius)
    for step in range(360):
        bearing = math.radians(step)
        angular = radius / EARTH_RADIUS_M
        phi = math.asin(math.sin(math.radians(lat)) * math.cos(angular) + math.cos(math.radians(lat)) * math.sin(angular) * math.cos(bearing))
        lam = math.radians(lon) + math.atan2(
            math.sin(bearing) * math.sin(angular) * math.cos(math.radians(lat)),
            math.cos(angular) - math.sin(math.radians(lat)) * math.sin(phi),
        )
        plat, plon = math.degrees(phi), (math.degrees(lam) + 540) % 360 - 180
        assert box.min_lat - 1e-9 <= plat <= box.max_lat + 1e-9
        assert not box.lon_ranges or any(west - 1e-9 <= plon <= east + 1e-9 for west, east in box.lon_ranges)


def test_save_then_read(owner: Persona) -> None:
    with time_machine.travel("2026-01-01 12:00:00Z", tick=False):
        save(owner, "bike-1", 51.5, -0.12)

    entity = location(owner, "Read", id="bike-1").json()["entity"]

    assert entity == {"id": "bike-1", "type": "bike", "location": {"latitude": 51.5, "longitude": -0.12, "timestamp": 1767268800}}


def test_save_replaces_position(owner: Persona) -> None:
    save(owner, "bike-1", 51.5, -0.12)
    body = {"entity": {"id": "bike-1", "type": "van", "location": {"latitude": -33.9, "longitude": 151.2, "timestamp": 5}}}

    saved = owner.call("location", "Save", body=body).json()["entity"]

    assert saved == body["entity"]
    assert location(owner, "Read", id="bike-1").json()["entity"] == body["entity"]


def test_search_nearest_first_within_radius(owner: Persona) -> None:
    save(owner, "near", 51.5080, -0.1280)  # at the centre
    save(owner, "mid", 51.5120, -0.1280)  # about 445 m north
    save(owner, "far", 51.5200, -0.1280)  # about 1.33 km north
    save(owner, "shop", 51.5081, -0.1280, kind="shop")

    assert found(owner, 51.508, -0.128, 500) == ["near", "shop", "mid"]
    assert found(owner, 51.508, -0.128, 500, type="bike") == ["near", "mid"]
    assert found(owner, 51.508, -0.128, 2000, type="bike", numEntities=2) == ["near", "mid"]
    assert found(owner, 51.508, -0.128, 400, type="bike") == ["near"]
    distances = location(owner, "Search", center={"latitude": 51.508, "longitude": -0.128}, radius=500).json()
    assert distances["entities"][2]["distance"] == pytest.approx(444.8, abs=0.5)


def test_search_across_the_antimeridian_and_near_a_pole(owner: Persona) -> None:
    save(owner, "east", 0.0, 179.999)
    save(owner, "west", 0.0, -179.999)
    save(owner, "pole-a", 89.999, 0.0)
    save(owner, "pole-b", 89.999, 180.0)

    assert sorted(found(owner, 0.0, 180.0, 200)) == ["east", "west"]
    assert sorted(found(owner, 0.0, -180.0, 200)) == ["east", "west"]
    assert sorted(found(owner, 90.0, 0.0, 200)) == ["pole-a", "pole-b"]
    assert found(owner, 0.0, 179.0, 200) == []


def test_whole_earth_radius_finds_the_antipode(owner: Persona) -> None:
    save(owner, "here", 10.0, 20.0)
    save(owner, "antipode", -10.0, -160.0)

    assert found(owner, 10.0, 20.0, MAX_DISTANCE_M) == ["here", "antipode"]


def test_missing_entity_is_404(owner: Persona) -> None:
    response = location(owner, "Read", id="nothing")

    assert response.status_code == 404
    assert response.json()["id"] == "location.read"


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_row_limit_applies_to_new_entities_only(owner: Persona) -> None:
    save(owner, "a", 1, 1)
    save(owner, "a", 2, 2)

    body = {"entity": {"id": "b", "location": {"latitude": 0, "longitude": 0}}}
    response = owner.call("location", "Save", body=body)

    assert response.status_code == 403
    assert response.json()["id"] == "location.row_limit"


POINT = {"latitude": 1, "longitude": 1}


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Save", {}),
        ("Save", {"entity": {"location": POINT}}),
        ("Save", {"entity": {"id": "", "location": POINT}}),
        ("Save", {"entity": {"id": "a"}}),
        ("Save", {"entity": {"id": "a", "location": {"latitude": 90.0001, "longitude": 0}}}),
        ("Save", {"entity": {"id": "a", "location": {"latitude": -91, "longitude": 0}}}),
        ("Save", {"entity": {"id": "a", "location": {"latitude": 0, "longitude": 180.5}}}),
        ("Save", {"entity": {"id": "a", "location": {"latitude": 0, "longitude": -181}}}),
        ("Save", {"entity": {"id": "a", "location": {"latitude": "1", "longitude": 0}}}),
        ("Save", {"entity": {"id": "a", "location": {"latitude": 0}}}),
        ("Save", {"entity": {"id": "a", "location": {**POINT, "timestamp": -1}}}),
        ("Save", {"entity": {"id": "a", "location": POINT, "extra": 1}}),
        ("Read", {}),
        ("Read", {"id": 5}),
        ("Search", {"radius": 10}),
        ("Search", {"center": POINT}),
        ("Search", {"center": POINT, "radius": 0}),
        ("Search", {"center": POINT, "radius": -5}),
        ("Search", {"center": POINT, "radius": MAX_DISTANCE_M + 1}),
        ("Search", {"center": {"latitude": 95, "longitude": 0}, "radius": 10}),
        ("Search", {"center": POINT, "radius": 10, "numEntities": 0}),
        ("Search", {"center": POINT, "radius": 10, "numEntities": 1001}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("location", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_non_finite_coordinates_are_400(owner: Persona) -> None:
    response = owner.call("location", "Save", body='{"entity": {"id": "a", "location": {"latitude": NaN, "longitude": 0}}}')

    assert response.status_code == 400


def test_purge_account_deletes_entities(owner: Persona, outsider: Persona) -> None:
    from services.builtin.location.models import Entity
    from services.registry import purge_account

    save(owner, "a", 1, 1)
    save(outsider, "a", 1, 1)

    purge_account(owner.account.pk)

    assert not Entity.objects.filter(account_id=owner.account.pk).exists()
    assert Entity.objects.filter(account_id=outsider.account.pk).count() == 1
