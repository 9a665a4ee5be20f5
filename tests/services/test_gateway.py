"""The gateway through HTTP: success, every error status, and what is charged."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Account, ApiKey
from accounts.services import api_key_revoke
from billing.models import Hold, LedgerEntry, UsageEvent
from billing.services import wallet_reconcile
from catalog.models import Endpoint, Service
from tests.conftest import Persona
from tests.factories import set_price

PRICE = 1_000  # helloworld/Call's default price in units


def assert_envelope(response, code: int, error_id: str) -> dict:
    assert response.status_code == code
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert body["id"] == error_id
    assert body["status"]
    assert body["detail"]
    return body


def assert_not_charged(persona: Persona, balance_before: int) -> None:
    assert persona.balance == balance_before
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.USAGE, wallet_id=persona.account.pk).exists()
    assert not Hold.objects.exists()


def test_call_returns_greeting_and_charges_price(owner: Persona) -> None:
    before = owner.balance

    response = owner.call(body={"name": "Alice"})

    assert response.status_code == 200
    assert response.content == b'{"message": "Hello Alice"}'
    assert response["X-M3O-Cost"] == str(PRICE)
    assert response["X-M3O-Balance"] == str(before - PRICE)
    assert len(response["X-Request-Id"]) == 32
    assert owner.balance == before - PRICE
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.USAGE)
    assert entry.amount_units == -PRICE
    assert entry.reference == f"usage:{response['X-Request-Id']}"
    event = UsageEvent.objects.get()
    assert (event.service, event.endpoint, event.status_code, event.cost_units) == ("helloworld", "Call", 200, PRICE)
    assert event.request_id == response["X-Request-Id"]
    assert event.api_key_id == owner.key.pk
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_call_accepts_body_without_content_type(owner: Persona) -> None:
    # curl -d sends application/x-www-form-urlencoded; the body is JSON all the same.
    response = owner.client.generic(
        "POST",
        "/v1/helloworld/Call",
        data=b'{"name":"Alice"}',
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {owner.secret}"},
    )
    assert response.json() == {"message": "Hello Alice"}


@pytest.mark.parametrize("path", ["/v1/helloworld/call", "/v1/HelloWorld/Call", "/v1/HELLOWORLD/CALL"])
def test_service_and_endpoint_names_ignore_case(owner: Persona, path: str) -> None:
    response = Client().post(
        path, data='{"name": "Bob"}', content_type="application/json", headers={"Authorization": f"Bearer {owner.secret}"}
    )
    assert response.json() == {"message": "Hello Bob"}


def test_basic_auth_with_key_as_password(owner: Persona) -> None:
    token = base64.b64encode(f":{owner.secret}".encode()).decode()
    response = Client().post(
        "/v1/helloworld/Call", data='{"name": "Bob"}', content_type="application/json", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 200


def test_basic_auth_with_key_as_user_name(owner: Persona) -> None:
    token = base64.b64encode(f"{owner.secret}:".encode()).decode()
    response = Client().post(
        "/v1/helloworld/Call", data='{"name": "Bob"}', content_type="application/json", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 200


def test_missing_key_is_401(db: None) -> None:
    response = Client().post("/v1/helloworld/Call", data='{"name": "A"}', content_type="application/json")
    assert_envelope(response, 401, "v1.missing_key")
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer m3o_" + "x" * 40,
        "Bearer not-a-key",
        "Bearer " + "m3o_" + "a" * 500,
        "Basic !!!notbase64",
        "Token abc",
    ],
)
def test_unknown_key_is_401(db: None, header: str) -> None:
    response = Client().post(
        "/v1/helloworld/Call", data='{"name": "A"}', content_type="application/json", headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert response.json()["id"] in {"v1.invalid_key", "v1.missing_key"}


def test_revoked_key_is_rejected_on_next_call(owner: Persona) -> None:
    assert owner.call().status_code == 200
    api_key_revoke(key=owner.key, actor=owner.user)
    before = owner.balance

    response = owner.call()

    assert_envelope(response, 401, "v1.key_revoked")
    assert owner.balance == before


def test_expired_key_is_401(owner: Persona) -> None:
    ApiKey.objects.filter(pk=owner.key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_envelope(owner.call(), 401, "v1.key_expired")


def test_key_outside_its_scopes_is_403(owner: Persona) -> None:
    ApiKey.objects.filter(pk=owner.key.pk).update(scopes=["cache"])
    before = owner.balance

    body = assert_envelope(owner.call(), 403, "v1.key_scope")

    assert "helloworld" in body["detail"]
    assert_not_charged(owner, before)


def test_key_scoped_to_the_service_may_call_it(owner: Persona) -> None:
    ApiKey.objects.filter(pk=owner.key.pk).update(scopes=["helloworld"])
    assert owner.call().status_code == 200


def test_suspended_account_is_403_with_message(owner: Persona) -> None:
    Account.objects.filter(pk=owner.account.pk).update(status=Account.Status.SUSPENDED, status_message="Unpaid invoice.")

    body = assert_envelope(owner.call(), 403, "v1.account_suspended")

    assert "Unpaid invoice." in body["detail"]


@pytest.mark.parametrize("path", ["/v1/nosuch/Call", "/v1/helloworld/Nope", "/v1/", "/v1", "/v1/helloworld", "/v1/a/b/c"])
def test_unknown_route_is_404_envelope(owner: Persona, path: str) -> None:
    response = Client().post(path, data="{}", content_type="application/json", headers={"Authorization": f"Bearer {owner.secret}"})
    assert_envelope(response, 404, "v1.not_found")


def test_draft_service_is_404(owner: Persona) -> None:
    Service.objects.filter(slug="helloworld").update(status=Service.Status.DRAFT)
    assert_envelope(owner.call(), 404, "v1.not_found")


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_wrong_method_is_405(owner: Persona, method: str) -> None:
    response = getattr(Client(), method)("/v1/helloworld/Call", headers={"Authorization": f"Bearer {owner.secret}"})
    assert_envelope(response, 405, "v1.method_not_allowed")
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"name": "This field is required."}),
        ({"name": 5}, {"name": "5 is not of type 'string'"}),
        ({"name": ""}, {"name": "'' should be non-empty"}),
        ({"name": "A", "extra": 1}, {"extra": "Unknown field."}),
    ],
)
def test_schema_violation_is_400_with_fields(owner: Persona, body: dict, fields: dict) -> None:
    before = owner.balance

    envelope = assert_envelope(owner.call(body=json.dumps(body)), 400, "v1.invalid_request")

    assert envelope["fields"] == fields
    assert_not_charged(owner, before)
    assert UsageEvent.objects.get().status_code == 400


@pytest.mark.parametrize(
    ("service", "endpoint", "body", "field"),
    [
        ("event", "Publish", {"topic": "orders\n", "message": {"id": 1}}, "topic"),
        ("mq", "Publish", {"topic": "orders\n", "message": {"id": 1}}, "topic"),
    ],
)
def test_pattern_anchors_reject_a_trailing_newline(
    owner: Persona, service: str, endpoint: str, body: dict, field: str
) -> None:
    """A schema pattern is an ECMA-262 regex: "$" matches only at the end, not before a final newline."""
    before = owner.balance

    envelope = assert_envelope(owner.call(service, endpoint, body=body), 400, "v1.invalid_request")

    assert field in envelope["fields"]
    assert_not_charged(owner, before)


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"name": NaN}',
        b'{"name": Infinity}',
        b'{"name": -Infinity}',
        b'{"name": 1e400}',
        b'["Alice"]',
        b'"Alice"',
        b"\xff\xfe",
        b"[" * 100 + b"]" * 100,
        b"[" * 100_000,
        b'{"a":' * 70 + b"1" + b"}" * 70,
    ],
)
def test_malformed_body_is_400(owner: Persona, raw: bytes) -> None:
    before = owner.balance
    assert_envelope(owner.call(body=raw), 400, "v1.bad_json")
    assert_not_charged(owner, before)


def test_oversized_body_is_413(owner: Persona, settings) -> None:
    before = owner.balance
    raw = json.dumps({"name": "A" * (settings.M3O_MAX_BODY_BYTES + 1)})
    assert_envelope(owner.call(body=raw), 413, "v1.payload_too_large")
    assert_not_charged(owner, before)


def test_empty_body_counts_as_empty_object(owner: Persona) -> None:
    body = assert_envelope(owner.call(body=b""), 400, "v1.invalid_request")
    assert body["fields"] == {"name": "This field is required."}


def test_insufficient_credit_is_402_and_changes_nothing(owner: Persona) -> None:
    owner.set_balance(PRICE - 1)

    response = owner.call()

    body = assert_envelope(response, 402, "v1.insufficient_credit")
    assert "/billing/" in body["detail"]
    assert response["X-M3O-Balance"] == str(PRICE - 1)
    assert owner.balance == PRICE - 1
    assert not Hold.objects.exists()


def test_exact_balance_pays_for_one_call(owner: Persona) -> None:
    owner.set_balance(PRICE)
    assert owner.call().status_code == 200
    assert owner.balance == 0
    assert owner.call().status_code == 402


def test_free_endpoint_charges_nothing(owner: Persona) -> None:
    set_price("helloworld", "Call", 0)
    before = owner.balance

    response = owner.call()

    assert response["X-M3O-Cost"] == "0"
    assert owner.balance == before


def test_price_change_in_admin_applies_to_next_call(owner: Persona) -> None:
    set_price("helloworld", "Call", 7)
    before = owner.balance
    assert owner.call()["X-M3O-Cost"] == "7"
    assert owner.balance == before - 7


def test_handler_error_is_500_envelope_and_not_charged(owner: Persona, monkeypatch) -> None:
    from services import registry

    def broken(context):
        raise RuntimeError("boom")

    monkeypatch.setitem(registry._services, "helloworld", _with_handler(registry.get("helloworld"), broken))
    before = owner.balance

    response = owner.call()

    body = assert_envelope(response, 500, "v1.internal")
    assert response["X-Request-Id"] in body["detail"]
    assert "boom" not in body["detail"]
    assert_not_charged(owner, before)
    assert UsageEvent.objects.get().status_code == 500


def _with_handler(service, handler):
    from dataclasses import replace

    return replace(service, endpoints=[replace(service.endpoints[0], handler=handler)])


def test_failed_calls_are_recorded_without_cost(owner: Persona) -> None:
    owner.call(body={})
    owner.call()
    events = {event.status_code: event.cost_units for event in UsageEvent.objects.all()}
    assert events == {400: 0, 200: PRICE}


def test_another_tenants_key_spends_only_its_own_balance(owner: Persona, outsider: Persona) -> None:
    owner_before, outsider_before = owner.balance, outsider.balance
    outsider.call()
    assert owner.balance == owner_before
    assert outsider.balance == outsider_before - PRICE
    assert UsageEvent.objects.get().account_id == outsider.account.pk


def test_body_over_django_upload_limit_is_413(owner: Persona) -> None:
    before = owner.balance
    raw = b'{"name": "' + b"a" * 3_000_000 + b'"}'
    assert_envelope(owner.call(body=raw), 413, "v1.payload_too_large")
    assert_not_charged(owner, before)


def test_content_length_claiming_too_much_is_413(owner: Persona) -> None:
    response = owner.client.post(
        "/v1/helloworld/Call",
        data=b'{"name": "A"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {owner.secret}"},
        CONTENT_LENGTH="3145728",
    )
    assert_envelope(response, 413, "v1.payload_too_large")


def test_chunked_body_without_length_is_411(owner: Persona) -> None:
    before = owner.balance
    response = owner.call(headers={"Transfer-Encoding": "chunked"})
    assert_envelope(response, 411, "v1.length_required")
    assert_not_charged(owner, before)


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate"])
def test_compressed_body_is_415(owner: Persona, encoding: str) -> None:
    assert_envelope(owner.call(headers={"Content-Encoding": encoding}), 415, "v1.unsupported_media_type")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/hello%00/Call",
        "/v1/helloworld/Call%00",
        "/v1/" + "a" * 300 + "/Call",
        "/v1/helloworld/" + "C" * 300,
        "/v1/hello world/Call",
        "/v1/héllo/Call",
    ],
)
def test_malformed_service_or_endpoint_name_is_404(owner: Persona, path: str) -> None:
    response = Client().post(path, data="{}", content_type="application/json", headers={"Authorization": f"Bearer {owner.secret}"})
    assert_envelope(response, 404, "v1.not_found")


@pytest.mark.parametrize("path", ["/V1/helloworld/Call", "/V1/nosuch", "/v1/x/y/z/"])
def test_api_paths_in_other_spellings_get_envelope(db: None, path: str) -> None:
    response = Client().post(path, data="{}", content_type="application/json")
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == 404


@pytest.mark.parametrize(("path", "expected"), [("//v1/helloworld/Call", True), ("/V1", True), ("/v10/x", False), ("/keys/", False)])
def test_api_path_detection(path: str, expected: bool) -> None:
    from django.test import RequestFactory

    from m3o_web.middleware import is_api_request

    request = RequestFactory().post("/")
    request.path_info = path  # the test client would read "//v1" as a host name
    assert is_api_request(request) is expected


def test_handler_returning_nan_is_500_and_not_charged(owner: Persona, monkeypatch) -> None:
    from services import registry

    monkeypatch.setitem(
        registry._services, "helloworld", _with_handler(registry.get("helloworld"), lambda context: {"message": float("nan")})
    )
    before = owner.balance
    assert_envelope(owner.call(), 500, "v1.internal")
    assert_not_charged(owner, before)


def test_validation_error_report_is_bounded(owner: Persona) -> None:
    body = {"name": "A", **{f"extra{i}": 1 for i in range(5_000)}}
    response = owner.call(body=body)
    envelope = assert_envelope(response, 400, "v1.invalid_request")
    assert len(envelope["fields"]) <= 50
    assert len(envelope["detail"]) < 1_000
    assert len(response.content) < 10_000


@pytest.mark.parametrize(
    ("service", "endpoint", "raw", "field"),
    [
        ("notes", "Create", b'{"title": "a", "text": "nul \\u0000 here"}', "text"),
        ("notes", "Create", b'{"title": "a", "text": "lone \\ud800"}', "text"),
        ("db", "Create", b'{"table": "t", "record": {"name": "x\\u0000"}}', "record.name"),
        ("db", "Create", b'{"table": "t", "record": {"\\udc00": 1}}', "record"),
        ("cache", "Set", b'{"key": "k\\u0000", "value": "v"}', "key"),
        ("secret", "Set", b'{"key": "k", "value": ["ok", "\\ud83d"]}', "value[1]"),
        ("helloworld", "Call", b'{"name": "\\u0000"}', "name"),
    ],
)
def test_nul_and_lone_surrogates_are_400_for_every_service(
    owner: Persona, service: str, endpoint: str, raw: bytes, field: str
) -> None:
    before = owner.balance

    response = owner.call(service, endpoint, body=raw)

    assert response.status_code == 400, response.content
    assert response.json()["id"] == "v1.bad_json"
    assert field in response.json()["fields"]
    assert owner.balance == before


def test_escaped_text_without_nul_still_works(owner: Persona) -> None:
    response = owner.call(body=b'{"name": "caf\\u00e9 \\ud83d\\ude00"}')

    assert response.status_code == 200
    assert response.json()["message"] == "Hello café 😀"
