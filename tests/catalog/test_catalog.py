"""Catalog pages and the sync of built-in services into the catalog."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from catalog.models import Endpoint, Service
from catalog.services import operator_fields_record
from services import registry
from tests.factories import set_price

pytestmark = pytest.mark.django_db


def test_helloworld_is_in_catalog_after_migrate() -> None:
    service = Service.objects.get(slug="helloworld")
    assert service.status == Service.Status.PUBLISHED
    assert service.backend == Service.Backend.BUILTIN
    endpoint = Endpoint.objects.get(service=service, name="Call")
    assert endpoint.price_units == 1_000
    assert endpoint.request_schema["required"] == ["name"]
    assert endpoint.examples[0]["response"] == {"message": "Hello Alice"}


def test_resync_keeps_operator_changes_and_updates_schemas() -> None:
    service = Service.objects.get(slug="helloworld")
    service.name = "Greeter"
    service.status = Service.Status.DEPRECATED
    service.save()
    operator_fields_record(instance=service, changed=["name"])
    set_price("helloworld", "Call", 5)
    Endpoint.objects.filter(service__slug="helloworld", name="Call").update(request_schema={"stale": True})

    registry.sync_catalog()

    service = Service.objects.get(slug="helloworld")
    endpoint = service.endpoints.get(name="Call")
    assert (service.name, service.status, endpoint.price_units) == ("Greeter", Service.Status.DEPRECATED, 5)
    assert endpoint.request_schema == registry.get("helloworld").endpoints[0].request_schema


def test_migrate_again_is_harmless() -> None:
    call_command("migrate", verbosity=0)
    assert Service.objects.filter(slug="helloworld").count() == 1
    assert Endpoint.objects.filter(service__slug="helloworld").count() == len(registry.get("helloworld").endpoints)


def test_explore_lists_published_services_only() -> None:
    Service.objects.create(slug="unreleased-draft", name="Unreleased", status=Service.Status.DRAFT)
    # The catalog has more services than one page holds, so each is looked up by search.
    assert "Hello World" in Client().get("/explore/", {"q": "hello"}).content.decode()
    assert "Unreleased" not in Client().get("/explore/", {"q": "unreleased"}).content.decode()


def test_explore_search_with_htmx_returns_list_only() -> None:
    response = Client().get("/explore/", {"q": "hello"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results"')
    assert "Hello World" in body
    assert "Hello World" not in Client().get("/explore/", {"q": "zzz"}).content.decode()


def test_service_page_shows_endpoint_price_and_example() -> None:
    page = Client().get("/explore/helloworld/").content.decode()
    assert "POST /v1/helloworld/Call" in page
    assert "$0.001000" in page
    assert "Hello Alice" in page


@pytest.mark.parametrize("slug", ["nosuch", "unreleased-draft"])
def test_unknown_or_draft_service_page_is_404(slug: str) -> None:
    Service.objects.create(slug="unreleased-draft", name="Unreleased", status=Service.Status.DRAFT)
    assert Client().get(f"/explore/{slug}/").status_code == 404


def test_service_description_markdown_is_sanitised() -> None:
    Service.objects.filter(slug="helloworld").update(description="**bold** <script>alert(1)</script>")
    page = Client().get("/explore/helloworld/").content.decode()
    assert "<strong>bold</strong>" in page
    assert "<script>alert(1)</script>" not in page


@pytest.mark.parametrize("query", ["\x00", "a\x00b", "x" * 5_000])
def test_explore_search_rejects_bad_query_without_error(query: str) -> None:
    response = Client().get("/explore/", {"q": query})
    assert response.status_code == 400
    # The page still lists the catalog's first page, unfiltered.
    assert 'href="/explore/avatar/"' in response.content.decode()
