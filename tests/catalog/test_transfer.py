"""Moving the catalog between environments with catalog_export and catalog_import."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalog.models import Category, Endpoint, EndpointPrice, Service, UpstreamConfig
from catalog.services import endpoint_price_schedule, operator_fields_record, upstream_credential_set
from catalog.selectors import endpoint_price_at
from catalog.transfer import CatalogImportError, catalog_export, catalog_import

pytestmark = pytest.mark.django_db

CREDENTIAL = "sk_live_do_not_export_1234"


@pytest.fixture
def geo() -> Service:
    service = Service.objects.create(
        slug="geo",
        name="Geo",
        tagline="Addresses to coordinates.",
        status=Service.Status.PUBLISHED,
        backend=Service.Backend.UPSTREAM,
        category=Category.objects.create(slug="maps", name="Maps", position=3),
    )
    config = UpstreamConfig.objects.create(service=service, base_url="https://geo.example/v1", credential_name="X-Key")
    upstream_credential_set(config=config, credential=CREDENTIAL)
    endpoint = Endpoint.objects.create(
        service=service,
        name="Lookup",
        upstream_method="GET",
        upstream_path="/lookup",
        request_schema={"type": "object", "properties": {"address": {"type": "string"}}, "required": ["address"]},
        response_schema={"type": "object", "properties": {"lat": {"type": "number"}}},
        examples=[{"title": "Find", "request": {"address": "1 Main St"}, "response": {"lat": 1.5}}],
        free_quota=10,
    )
    endpoint_price_schedule(endpoint=endpoint, price_units=250, effective_from=None, created_by=None)
    return service


def entry(document: dict, slug: str) -> dict:
    return next(service for service in document["services"] if service["slug"] == slug)


def snapshot() -> dict:
    """Return the export without its timestamp, to compare catalogs."""
    document = catalog_export()
    document.pop("exported_at")
    return document


def test_export_then_import_changes_nothing(geo: Service) -> None:
    before = snapshot()
    prices_before = EndpointPrice.objects.count()

    report = catalog_import(catalog_export())

    assert report.created == []
    assert report.updated == []
    assert report.prices == []
    assert snapshot() == before
    assert EndpointPrice.objects.count() == prices_before


def test_upstream_service_is_recreated_without_its_credential(geo: Service) -> None:
    document = catalog_export()
    geo.delete()

    report = catalog_import(document)

    service = Service.objects.get(slug="geo")
    assert "service geo" in report.created
    assert "endpoint geo/Lookup" in report.created
    assert service.upstream.base_url == "https://geo.example/v1"
    assert service.upstream.credential_encrypted == ""
    assert any("credential of service geo" in warning for warning in report.warnings)
    endpoint = service.endpoints.get()
    assert (endpoint.upstream_path, endpoint.free_quota) == ("/lookup", 10)
    assert endpoint_price_at(endpoint=endpoint, at=timezone.now()) == 250


def test_export_never_contains_credentials(geo: Service) -> None:
    text = json.dumps(catalog_export())

    assert CREDENTIAL not in text
    assert geo.upstream.credential_encrypted not in text
    assert "credential_encrypted" not in text


def test_import_keeps_an_existing_credential(geo: Service) -> None:
    document = catalog_export()
    entry(document, "geo")["upstream"]["base_url"] = "https://geo.example/v2"

    catalog_import(document)

    config = UpstreamConfig.objects.get(service=geo)
    assert config.base_url == "https://geo.example/v2"
    assert config.credential_last4 == CREDENTIAL[-4:]


def test_endpoints_missing_from_the_file_are_removed(geo: Service) -> None:
    document = catalog_export()
    Endpoint.objects.create(service=geo, name="Reverse", request_schema={"type": "object"})

    report = catalog_import(document)

    assert report.removed == ["endpoint geo/Reverse"]
    assert list(geo.endpoints.values_list("name", flat=True)) == ["Lookup"]


def test_builtin_service_takes_only_operator_fields_status_and_prices() -> None:
    service = Service.objects.get(slug="helloworld")
    endpoint = service.endpoints.get(name="Call")
    original_schema = endpoint.request_schema
    service.tagline = "Say hello, operator style."
    service.save()
    operator_fields_record(instance=service, changed=["tagline"])
    endpoint_price_schedule(endpoint=endpoint, price_units=7_000, effective_from=None, created_by=None)
    document = catalog_export()
    helloworld = entry(document, "helloworld")
    helloworld["name"] = "Not owned by the operator"
    helloworld["status"] = Service.Status.DEPRECATED
    helloworld["endpoints"][0]["request_schema"] = {"type": "object", "properties": {}}

    Service.objects.filter(pk=service.pk).update(tagline="Changed here", operator_fields=[])
    endpoint_price_schedule(
        endpoint=endpoint, price_units=1_000, effective_from=timezone.now() + timedelta(seconds=1), created_by=None
    )
    with_later_price = timezone.now() + timedelta(seconds=2)

    catalog_import(document)

    service.refresh_from_db()
    endpoint.refresh_from_db()
    assert service.tagline == "Say hello, operator style."
    assert service.name == "Hello World"
    assert service.status == Service.Status.DEPRECATED
    assert "tagline" in service.operator_fields
    assert endpoint.request_schema == original_schema
    assert endpoint_price_at(endpoint=endpoint, at=with_later_price) == 7_000


def test_unknown_builtin_service_is_skipped_with_a_warning() -> None:
    document = catalog_export()
    fake = copy.deepcopy(entry(document, "helloworld"))
    fake["slug"] = "teleport"
    document["services"].append(fake)

    report = catalog_import(document)

    assert any("teleport" in warning for warning in report.warnings)
    assert not Service.objects.filter(slug="teleport").exists()


def test_prices_are_never_rewritten_into_the_past(geo: Service) -> None:
    document = catalog_export()
    endpoint = geo.endpoints.get()
    past = list(EndpointPrice.objects.filter(endpoint=endpoint).values_list("effective_from", "price_units"))
    entry(document, "geo")["endpoints"][0]["prices"] = [
        {"price_units": 900, "effective_from": "2001-01-01T00:00:00+00:00", "source": "operator"}
    ]

    report = catalog_import(document)

    assert report.prices and "900 units" in report.prices[0]
    assert list(
        EndpointPrice.objects.filter(endpoint=endpoint, effective_from__in=[start for start, _ in past]).values_list(
            "effective_from", "price_units"
        )
    ) == past
    assert not EndpointPrice.objects.filter(endpoint=endpoint, effective_from__year=2001).exists()
    assert endpoint_price_at(endpoint=endpoint, at=timezone.now() + timedelta(seconds=1)) == 900


def test_future_prices_are_scheduled(geo: Service) -> None:
    document = catalog_export()
    start = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    entry(document, "geo")["endpoints"][0]["prices"].append(
        {"price_units": 400, "effective_from": start.isoformat(), "source": "operator"}
    )

    catalog_import(document)
    catalog_import(document)

    endpoint = geo.endpoints.get()
    assert EndpointPrice.objects.filter(endpoint=endpoint, effective_from=start).count() == 1
    assert endpoint_price_at(endpoint=endpoint, at=start) == 400


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda doc: doc.update(format="other"), "format"),
        (lambda doc: entry(doc, "geo").update(slug="Bad Slug"), "slug"),
        (lambda doc: entry(doc, "geo").update(upstream=None), "no upstream settings"),
        (lambda doc: entry(doc, "geo")["endpoints"][0].update(prices=[]), "no price"),
        (lambda doc: entry(doc, "geo")["endpoints"][0].update(request_schema={"type": "array"}), "JSON object"),
        (
            lambda doc: entry(doc, "geo")["endpoints"][0].update(
                examples=[{"title": "Bad", "request": {"address": 5}, "response": {}}]
            ),
            "Example 1 request",
        ),
        (lambda doc: entry(doc, "geo")["endpoints"][0].update(upstream_method="BREW"), "upstream_method"),
        (lambda doc: entry(doc, "geo").update(category="nowhere"), "category nowhere"),
        (lambda doc: doc["services"].append(copy.deepcopy(entry(doc, "geo"))), "listed twice"),
    ],
)
def test_a_file_with_a_problem_changes_nothing(geo: Service, change, problem: str) -> None:
    document = catalog_export()
    entry(document, "geo")["name"] = "Renamed"
    change(document)
    before = snapshot()

    with pytest.raises(CatalogImportError) as refused:
        catalog_import(document)

    assert any(problem in message for message in refused.value.problems), refused.value.problems
    assert snapshot() == before


def test_dry_run_reports_and_changes_nothing(geo: Service) -> None:
    document = catalog_export()
    geo.delete()

    report = catalog_import(document, dry_run=True)

    assert "service geo" in report.created
    assert not Service.objects.filter(slug="geo").exists()


def test_commands_round_trip_through_a_file(geo: Service, tmp_path: Path, capsys) -> None:
    path = tmp_path / "catalog.json"
    call_command("catalog_export", output=str(path))
    geo.delete()

    call_command("catalog_import", str(path), dry_run=True)
    assert "Created: service geo" in capsys.readouterr().out
    assert not Service.objects.filter(slug="geo").exists()

    call_command("catalog_import", str(path))
    assert Service.objects.filter(slug="geo").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "m3o.catalog"}', "has problems"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_import_command_explains_a_bad_file(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "catalog.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)

    with pytest.raises(CommandError, match=message):
        call_command("catalog_import", str(path))


def test_import_command_explains_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Could not read"):
        call_command("catalog_import", str(tmp_path / "missing.json"))
