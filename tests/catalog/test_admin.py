"""Operator admin for the catalog: publishing, price changes with their cost preview, examples."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from billing.models import UsageEvent
from catalog.models import Endpoint, EndpointPrice, Service
from tests.conftest import Persona
from tests.factories import admin_change_form_data
from tests.services.test_gateway import assert_envelope

pytestmark = pytest.mark.django_db


def hello() -> Endpoint:
    return Endpoint.objects.get(service__slug="helloworld", name="Call")


def status_action(operator: Client, action: str) -> None:
    service = Service.objects.get(slug="helloworld")
    response = operator.post("/admin/catalog/service/", {"action": action, "_selected_action": [service.pk]})
    assert response.status_code == 302


def test_draft_service_is_hidden_and_publishing_makes_it_callable(operator: Client, owner: Persona) -> None:
    status_action(operator, "make_draft")

    assert_envelope(owner.call(), 404, "v1.not_found")
    assert Client().get("/explore/helloworld/").status_code == 404
    assert "Hello World" not in Client().get("/explore/").content.decode()

    status_action(operator, "make_published")

    assert owner.call().status_code == 200
    assert Client().get("/explore/helloworld/").status_code == 200


def test_deprecated_service_stays_callable_and_is_marked(operator: Client, owner: Persona) -> None:
    status_action(operator, "make_deprecated")

    assert owner.call().status_code == 200
    assert "deprecated" in Client().get("/explore/helloworld/").content.decode()


def record_calls(persona: Persona, count: int, when: datetime, *, cost: int = 1_000, status: int = 200) -> None:
    with time_machine.travel(when):
        for number in range(count):
            UsageEvent.objects.create(
                request_id=f"{persona.account.pk}-{when:%Y%m%d}-{status}-{number}",
                account=persona.account,
                service="helloworld",
                endpoint="Call",
                status_code=status,
                cost_units=cost if status == 200 else 0,
                latency_ms=1,
            )


def test_price_change_shows_last_month_cost_per_account_before_saving(
    operator: Client, owner: Persona, outsider: Persona
) -> None:
    # Fixed "now" in the future, after the price rows that migrate created.
    with time_machine.travel(datetime(2030, 3, 10, 12, tzinfo=UTC)):
        operator.force_login(User.objects.get(email="ops@example.com"))
        record_calls(owner, 3, datetime(2030, 2, 5, tzinfo=UTC))
        record_calls(owner, 2, datetime(2030, 2, 6, tzinfo=UTC), status=500)
        record_calls(outsider, 1, datetime(2030, 2, 28, 23, tzinfo=UTC))
        record_calls(outsider, 4, datetime(2030, 3, 1, tzinfo=UTC))  # this month: not in the preview
        url = f"/admin/catalog/endpoint/{hello().pk}/price/"

        preview = operator.post(url, {"price_units": "1500", "effective_from": "", "note": "raise", "preview": "1"})

        assert preview.status_code == 200
        rows = {row.account_id: row for row in preview.context["preview"].accounts}
        assert (rows[owner.account.pk].calls, rows[owner.account.pk].charged_units) == (3, 3_000)
        assert rows[owner.account.pk].at_new_price_units == 4_500
        assert rows[outsider.account.pk].at_new_price_units == 1_500
        assert preview.context["preview"].at_new_price_units == 6_000
        assert "February 2030" in preview.content.decode()
        assert hello().prices.count() == 1

        saved = operator.post(url, {"price_units": "1500", "effective_from": "", "note": "raise", "confirm": "1"})

        assert saved.status_code == 302
        price = hello().prices.latest("effective_from")
        assert (price.price_units, price.source, price.note) == (1_500, EndpointPrice.Source.OPERATOR, "raise")
        assert hello().price_units == 1_500


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"price_units": "-1"}, "greater than or equal to 0"),
        ({"price_units": "abc"}, "Enter a whole number"),
        ({"price_units": "10", "effective_from": "2001-01-01 00:00"}, "cannot start in the past"),
        ({"price_units": "10", "effective_from": "not a date"}, "Enter a valid date/time"),
    ],
)
def test_bad_price_change_is_form_error(operator: Client, data: dict[str, str], message: str) -> None:
    response = operator.post(f"/admin/catalog/endpoint/{hello().pk}/price/", {**data, "confirm": "1"})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert hello().prices.count() == 1


def test_price_history_is_read_only_in_admin(operator: Client) -> None:
    page = operator.get(f"/admin/catalog/endpoint/{hello().pk}/change/")
    assert page.status_code == 200
    assert "Change price" in page.content.decode()
    assert not page.context["inline_admin_formsets"][0].has_change_permission
    assert operator.get("/admin/catalog/endpointprice/").status_code == 404


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ("not json", "Enter a valid JSON"),
        ('{"title": "x"}', "must be a JSON list"),
        ('[{"title": "", "request": {"name": "A"}, "response": {"message": "x"}}]', "non-empty"),
        ('[{"title": "T", "request": {"nome": "A"}, "response": {"message": "x"}}]', "Example 1 request"),
        ('[{"title": "T", "request": {"name": "A"}, "response": {"msg": 1}}]', "Example 1 response"),
    ],
)
def test_invalid_examples_are_form_errors(operator: Client, examples: str, message: str) -> None:
    url = f"/admin/catalog/endpoint/{hello().pk}/change/"
    data = admin_change_form_data(operator.get(url))
    data["examples"] = examples

    response = operator.post(url, data)

    assert response.status_code == 200
    assert message in response.content.decode()


def test_valid_examples_are_saved_and_kept_over_sync(operator: Client) -> None:
    from services import registry

    url = f"/admin/catalog/endpoint/{hello().pk}/change/"
    data = admin_change_form_data(operator.get(url))
    examples = [{"title": "Greet Bob", "request": {"name": "Bob"}, "response": {"message": "Hello Bob"}}]
    data["examples"] = json.dumps(examples)

    assert operator.post(url, data).status_code == 302
    registry.sync_catalog()

    assert hello().examples == examples
    assert hello().operator_fields == ["examples"]


def test_upstream_endpoint_schema_errors_are_form_errors(operator: Client) -> None:
    service = Service.objects.create(slug="ext", name="Ext", backend=Service.Backend.UPSTREAM)
    endpoint = Endpoint.objects.create(service=service, name="Get", upstream_method="GET", upstream_path="/get")
    url = f"/admin/catalog/endpoint/{endpoint.pk}/change/"
    data = admin_change_form_data(operator.get(url))
    data["request_schema"] = '{"type": "array"}'
    data["response_schema"] = '{"type": "object", "properties": {"a": {"type": "nonsense"}}}'

    response = operator.post(url, data)

    assert response.status_code == 200
    body = response.content.decode()
    assert "must describe a JSON object" in body
    assert "not a valid JSON Schema" in body
