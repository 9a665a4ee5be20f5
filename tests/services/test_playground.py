"""The playground: runs through the gateway pipeline as the signed-in account."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import Membership
from billing.models import UsageEvent
from services.models import PlaygroundRun
from tests.conftest import Persona

RUN = "/playground/helloworld/Call/run"


def run(persona: Persona, body: object, path: str = RUN):
    return persona.client.post(path, data=json.dumps(body), content_type="application/json")


def test_page_prefills_example_price_and_snippets(owner: Persona) -> None:
    page = owner.client.get("/playground/helloworld/Call").content.decode()
    assert "&quot;name&quot;: &quot;Alice&quot;" in page
    assert "1000 units" in page
    assert "M3O_API_TOKEN" in page
    assert 'data-run-url="/playground/helloworld/Call/run"' in page


def test_share_link_prefills_request(owner: Persona) -> None:
    page = owner.client.get("/playground/helloworld/Call", {"request": '{"name": "Shared"}'}).content.decode()
    assert "Shared" in page
    bad = owner.client.get("/playground/helloworld/Call", {"request": "[not json"}).content.decode()
    assert "Alice" in bad


def test_run_is_charged_and_recorded_as_playground(owner: Persona) -> None:
    before = owner.balance

    response = run(owner, {"name": "Play"})

    assert response.status_code == 200
    assert response.json() == {"message": "Hello Play"}
    assert owner.balance == before - int(response["X-M3O-Cost"])
    event = UsageEvent.objects.get()
    assert event.source == UsageEvent.Source.PLAYGROUND
    assert event.api_key_id is None
    assert PlaygroundRun.objects.get().status_code == 200


def test_run_uses_the_same_validation_and_envelope(owner: Persona) -> None:
    before = owner.balance
    response = run(owner, {})
    assert response.status_code == 400
    assert response.json()["fields"] == {"name": "This field is required."}
    assert owner.balance == before


def test_run_is_rate_limited_like_keys(owner: Persona, settings) -> None:
    settings.M3O_RATE_LIMIT_PER_KEY = 1
    assert run(owner, {"name": "A"}).status_code == 200
    assert run(owner, {"name": "A"}).status_code == 429


def test_run_without_credit_is_402(owner: Persona) -> None:
    owner.set_balance(0)
    assert run(owner, {"name": "A"}).json()["id"] == "v1.insufficient_credit"


def test_billing_role_cannot_run(owner: Persona) -> None:
    Membership.objects.filter(user=owner.user).update(role=Membership.Role.BILLING)
    response = run(owner, {"name": "A"})
    assert response.status_code == 403
    assert response.json()["id"] == "v1.role"
    assert not UsageEvent.objects.exists()


def test_run_needs_sign_in_and_csrf(owner: Persona) -> None:
    anonymous = Client().post(RUN, data="{}", content_type="application/json")
    assert anonymous.status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(RUN, data='{"name": "A"}', content_type="application/json").status_code == 403
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize("path", ["/playground/nosuch/Call", "/playground/helloworld/Nope", "/playground/hello%00/Call"])
def test_unknown_endpoint_page_is_404(owner: Persona, path: str) -> None:
    assert owner.client.get(path).status_code == 404


def test_history_keeps_last_fifty(owner: Persona, settings) -> None:
    settings.M3O_RATE_LIMIT_PER_KEY = 1000
    for index in range(52):
        run(owner, {"name": f"n{index}"})
    runs = PlaygroundRun.objects.filter(user=owner.user)
    assert runs.count() == 50
    assert json.loads(runs.first().request_body) == {"name": "n51"}
    page = owner.client.get("/playground/helloworld/Call").content.decode()
    assert "n51" in page


def test_operator_saves_run_as_example(owner: Persona) -> None:
    from catalog.models import Endpoint

    owner.user.is_staff = True
    owner.user.save()
    payload = {"title": "Greet Bob", "request": {"name": "Bob"}, "response": {"message": "Hello Bob"}}

    response = owner.client.post(
        "/playground/helloworld/Call/save-example", data=json.dumps(payload), content_type="application/json"
    )

    assert response.status_code == 200
    endpoint = Endpoint.objects.get(service__slug="helloworld", name="Call")
    assert endpoint.examples[-1] == payload
    assert "examples" in endpoint.operator_fields


@pytest.mark.parametrize(
    "payload",
    [{"title": "Bad", "request": {"name": 5}, "response": {}}, [1, 2], "not json"],
)
def test_invalid_example_is_400(owner: Persona, payload: object) -> None:
    owner.user.is_staff = True
    owner.user.save()
    data = payload if isinstance(payload, str) else json.dumps(payload)
    response = owner.client.post("/playground/helloworld/Call/save-example", data=data, content_type="application/json")
    assert response.status_code == 400


def test_non_operator_cannot_save_example(owner: Persona) -> None:
    response = owner.client.post(
        "/playground/helloworld/Call/save-example",
        data=json.dumps({"title": "x", "request": {"name": "A"}, "response": {"message": "Hello A"}}),
        content_type="application/json",
    )
    assert response.status_code == 403


def test_signed_out_visitor_can_read_and_is_asked_to_sign_up(db: None) -> None:
    page = Client().get("/playground/helloworld/Call")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Sign up to run this call" in body
    assert 'id="run"' not in body
    assert "M3O_API_TOKEN" in body


def test_playground_and_api_calls_record_the_same_usage(owner: Persona) -> None:
    owner.call(body={"name": "Same"})
    run(owner, {"name": "Same"})
    api_event, playground_event = UsageEvent.objects.order_by("id")
    compared = ["account_id", "service", "endpoint", "status_code", "cost_units"]
    assert [getattr(api_event, name) for name in compared] == [getattr(playground_event, name) for name in compared]
    assert (api_event.source, playground_event.source) == ("api", "playground")


def test_stream_page_runs_through_a_ticket_for_the_current_account(owner: Persona) -> None:
    page = owner.client.get("/playground/helloworld/Stream").content.decode()

    assert f'data-stream-ticket-url="/playground/helloworld/Stream/stream-ticket?account={owner.account.pk}"' in page
    assert "js/playground_stream.js" in page
    assert 'id="stop"' in page
    assert "Price per message" in page
    assert owner.secret not in page


def test_signed_out_visitor_is_asked_to_sign_up_for_a_stream(db: None) -> None:
    body = Client().get("/playground/helloworld/Stream").content.decode()

    assert "Sign up to run this stream" in body
    assert "data-stream-ticket-url" not in body
