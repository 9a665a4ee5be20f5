"""Syncing built-in services from code, and the precedence of operator changes over code."""

from __future__ import annotations

import dataclasses

import pytest
from django.test import Client

from catalog.models import EndpointPrice, Service
from catalog.services import operator_fields_record, service_sync_builtin, spec_problems
from services import registry
from tests.factories import admin_change_form_data, set_price

pytestmark = pytest.mark.django_db


def changed_spec(**service_changes: object):
    spec = registry.get("helloworld")
    endpoint = dataclasses.replace(spec.endpoints[0], description="New text from code.", price_units=2_000)
    return dataclasses.replace(spec, endpoints=[endpoint], **service_changes)


def test_code_changes_reach_fields_operator_left_alone() -> None:
    service_sync_builtin(spec=changed_spec(tagline="New tagline from code."))

    service = Service.objects.get(slug="helloworld")
    endpoint = service.endpoints.get(name="Call")
    assert service.tagline == "New tagline from code."
    assert endpoint.description == "New text from code."
    assert endpoint.price_units == 2_000
    assert endpoint.prices.latest("effective_from").source == EndpointPrice.Source.CODE


def test_operator_changes_in_admin_win_over_code(operator: Client) -> None:
    service = Service.objects.get(slug="helloworld")
    service.tagline = "Operator tagline"
    service.save()
    operator_fields_record(instance=service, changed=["tagline"])
    set_price("helloworld", "Call", 42)

    service_sync_builtin(spec=changed_spec(tagline="New tagline from code.", name="Renamed in code"))

    service.refresh_from_db()
    assert service.tagline == "Operator tagline"
    assert service.name == "Renamed in code"
    assert service.endpoints.get(name="Call").price_units == 42


def test_admin_edit_records_operator_fields(operator: Client) -> None:
    service = Service.objects.get(slug="helloworld")
    page = operator.get(f"/admin/catalog/service/{service.pk}/change/")
    data = admin_change_form_data(page)
    data["tagline"] = "Changed in admin"

    response = operator.post(f"/admin/catalog/service/{service.pk}/change/", data)

    assert response.status_code == 302
    service.refresh_from_db()
    assert service.operator_fields == ["tagline"]
    registry.sync_catalog()
    service.refresh_from_db()
    assert service.tagline == "Changed in admin"


def test_status_is_never_synced() -> None:
    Service.objects.filter(slug="helloworld").update(status=Service.Status.DRAFT)
    registry.sync_catalog()
    assert Service.objects.get(slug="helloworld").status == Service.Status.DRAFT


def test_every_builtin_declaration_is_valid() -> None:
    for spec in registry.all_services():
        assert spec_problems(spec) == [], spec.slug


def test_invalid_declaration_is_rejected() -> None:
    spec = registry.get("helloworld")
    bad_endpoint = dataclasses.replace(
        spec.endpoints[0], examples=[{"title": "Bad", "request": {"nome": "x"}, "response": {"message": "x"}}]
    )

    with pytest.raises(ValueError, match="Example 1 request"):
        service_sync_builtin(spec=dataclasses.replace(spec, endpoints=[bad_endpoint]))
