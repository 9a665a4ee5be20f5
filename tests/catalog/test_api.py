"""The keyless JSON catalog API."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import Category, Service
from services import registry

pytestmark = pytest.mark.django_db


def test_list_returns_listed_services_with_prices() -> None:
    Service.objects.create(slug="unreleased-draft", name="Unreleased", status=Service.Status.DRAFT)

    body = Client().get("/api/catalog/services/").json()

    assert body["count"] == len(registry.all_services())
    assert "unreleased-draft" not in [service["slug"] for service in body["results"]]
    hello = next(service for service in body["results"] if service["slug"] == "helloworld")
    assert hello["slug"] == "helloworld"
    assert hello["category"] == {"slug": "developer-tools", "name": "Developer tools"}
    assert hello["endpoints"] == [
        {"name": "Call", "description": "Return a personalised greeting.", "price_units": 1_000, "free_quota": 0,
         "streaming": False},
        {"name": "Stream", "description": "Stream a greeting the number of times you ask for, then close. The price "
         "is charged per message sent.", "price_units": 1_000, "free_quota": 0, "streaming": True},
    ]
    assert hello["openapi_url"] == "http://testserver/explore/helloworld/openapi.json"


def test_search_and_category_filter() -> None:
    maps = Category.objects.create(slug="maps", name="Maps")
    Service.objects.create(slug="geo", name="Geofencing", status=Service.Status.PUBLISHED, category=maps)

    assert [s["slug"] for s in Client().get("/api/catalog/services/", {"q": "geofenc"}).json()["results"]] == ["geo"]
    assert [s["slug"] for s in Client().get("/api/catalog/services/", {"category": "maps"}).json()["results"]] == ["geo"]
    assert Client().get("/api/catalog/services/", {"q": "nothing-like-it"}).json()["count"] == 0


def test_detail_has_schemas_examples_and_description() -> None:
    body = Client().get("/api/catalog/services/HelloWorld/").json()

    endpoint = body["endpoints"][0]
    assert endpoint["request_schema"]["required"] == ["name"]
    assert endpoint["examples"][0]["request"] == {"name": "Alice"}
    assert body["description"].startswith("Returns a greeting")


def test_categories_list_only_those_with_services() -> None:
    Category.objects.create(slug="empty", name="Empty")

    body = Client().get("/api/catalog/categories/").json()

    slugs = [category["slug"] for category in body["results"]]
    assert "empty" not in slugs
    assert {"developer-tools", "security"} <= set(slugs)


@pytest.mark.parametrize(
    ("path", "params", "code", "error_id"),
    [
        ("/api/catalog/services/nosuch/", {}, 404, "catalog.not_found"),
        ("/api/catalog/services/", {"category": "nosuch"}, 400, "catalog.invalid"),
        ("/api/catalog/services/", {"category": "not a slug"}, 400, "catalog.invalid"),
        ("/api/catalog/services/", {"q": "x" * 101}, 400, "catalog.invalid"),
        ("/api/catalog/services/", {"q": "a\x00b"}, 400, "catalog.invalid"),
        ("/api/catalog/services/", {"page": "99"}, 404, "catalog.not_found"),
        ("/api/catalog/services/", {"page": "x"}, 404, "catalog.not_found"),
    ],
)
def test_bad_requests_get_error_envelope(path: str, params: dict[str, str], code: int, error_id: str) -> None:
    response = Client().get(path, params)

    assert response.status_code == code
    body = response.json()
    assert body["id"] == error_id
    assert body["code"] == code
    assert body["detail"]


def test_api_needs_no_key_and_rejects_writes() -> None:
    response = Client(enforce_csrf_checks=True).post("/api/catalog/services/", {})

    assert response.status_code == 405
    assert response.json()["id"] == "catalog.method_not_allowed"


@pytest.mark.parametrize("slug", ["%00", "a%00b", "x" * 300])
def test_unknown_slug_shapes_are_json_404(slug: str) -> None:
    response = Client().get(f"/api/catalog/services/{slug}/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
