"""Upstream services added in admin and called through the gateway against a real local HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from billing.models import LedgerEntry, UsageEvent
from catalog.models import Endpoint, Service, UpstreamConfig
from services.outbound import is_public as _is_public
from tests.conftest import Persona
from tests.factories import admin_change_form_data
from tests.services.test_gateway import assert_envelope
from tests.services.upstream_fake import FakeUpstream, fake_upstream

pytestmark = pytest.mark.django_db

CREDENTIAL = "upstream-secret-4f1c9e2a7b"
WORD_SCHEMA = {
    "type": "object",
    "properties": {"word": {"type": "string", "minLength": 1, "description": "The word to look up."}},
    "required": ["word"],
    "additionalProperties": False,
}
WORD_RESPONSE_SCHEMA = {
    "type": "object",
    "properties": {"word": {"type": "string"}, "length": {"type": "integer"}},
    "required": ["word", "length"],
}


@pytest.fixture
def upstream(settings: Any) -> Iterator[FakeUpstream]:
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = ["127.0.0.1"]
    with fake_upstream() as fake:
        yield fake


def endpoint_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "endpoints-TOTAL_FORMS": str(len(rows)),
        "endpoints-INITIAL_FORMS": "0",
        "endpoints-MIN_NUM_FORMS": "0",
        "endpoints-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        defaults = {"position": "0", "free_quota": "0", "description": "", "upstream_method": "GET"}
        for name, value in {**defaults, **row}.items():
            data[f"endpoints-{index}-{name}"] = value
    return data


def upstream_form(url: str, **overrides: Any) -> dict[str, Any]:
    fields = {
        "base_url": url,
        "credential_placement": "header",
        "credential_name": "X-Api-Key",
        "credential_prefix": "",
        "credential": CREDENTIAL,
        "connect_timeout_ms": "1000",
        "read_timeout_ms": "1000",
        **overrides,
    }
    data = {
        "upstream-TOTAL_FORMS": "1",
        "upstream-INITIAL_FORMS": "0",
        "upstream-MIN_NUM_FORMS": "0",
        "upstream-MAX_NUM_FORMS": "1",
    }
    data.update({f"upstream-0-{name}": value for name, value in fields.items()})
    return data


def add_service(operator: Client, url: str, *, endpoints: list[dict[str, Any]] | None = None, **upstream: Any):
    endpoints = endpoints or [
        {"name": "Lookup", "price_units": "500", "upstream_method": "GET", "upstream_path": "/words/{word}"},
        {"name": "Echo", "price_units": "300", "upstream_method": "POST", "upstream_path": "/echo"},
        {"name": "Slow", "price_units": "100", "upstream_path": "/slow"},
        {"name": "Fail", "price_units": "100", "upstream_path": "/fail"},
        {"name": "Html", "price_units": "100", "upstream_path": "/html"},
        {"name": "List", "price_units": "100", "upstream_path": "/list"},
        {"name": "Big", "price_units": "100", "upstream_path": "/big"},
        {"name": "Redirect", "price_units": "100", "upstream_path": "/redirect"},
        {"name": "Huge", "price_units": "100", "upstream_path": "/huge"},
        {"name": "Gzip", "price_units": "100", "upstream_path": "/gzip"},
        {"name": "Bomb", "price_units": "100", "upstream_path": "/bomb"},
        {"name": "Deep", "price_units": "100", "upstream_path": "/deep"},
        {"name": "Trickle", "price_units": "100", "upstream_path": "/trickle"},
    ]
    data = {
        "slug": "words",
        "name": "Words",
        "tagline": "Look words up.",
        "description": "",
        "icon": "",
        "status": "published",
        "backend": "upstream",
        **endpoint_rows(endpoints),
        **upstream_form(url, **upstream),
    }
    return operator.post("/admin/catalog/service/add/", data)


@pytest.fixture
def words(operator: Client, upstream: FakeUpstream) -> Service:
    response = add_service(operator, upstream.url)
    assert response.status_code == 302, response.content.decode()[-3000:]
    Endpoint.objects.filter(service__slug="words", name="Lookup").update(
        request_schema=WORD_SCHEMA, response_schema=WORD_RESPONSE_SCHEMA
    )
    return Service.objects.get(slug="words")


def test_upstream_call_injects_credential_and_not_caller_key(
    words: Service, upstream: FakeUpstream, owner: Persona
) -> None:
    before = owner.balance

    response = owner.call("words", "Lookup", {"word": "hello world"})

    assert response.status_code == 200, response.content
    assert response.json() == {"word": "hello world", "length": 11}
    assert response["X-M3O-Cost"] == "500"
    assert owner.balance == before - 500
    seen = upstream.requests[-1]
    assert seen.method == "GET"
    assert seen.path == "/api/words/hello%20world"
    assert seen.headers["x-api-key"] == CREDENTIAL
    assert "authorization" not in seen.headers
    assert owner.secret not in json.dumps(seen.headers) + seen.path + json.dumps(seen.query)
    assert seen.headers["x-request-id"] == response["X-Request-Id"]


def test_upstream_post_sends_json_body(words: Service, upstream: FakeUpstream, owner: Persona) -> None:
    response = owner.call("words", "Echo", {"text": "hi", "n": 2})

    assert response.json() == {"received": {"text": "hi", "n": 2}}
    assert json.loads(upstream.requests[-1].body) == {"text": "hi", "n": 2}


def test_credential_in_query_parameter(operator: Client, upstream: FakeUpstream, owner: Persona) -> None:
    response = add_service(operator, upstream.url, credential_placement="query", credential_name="api_key")
    assert response.status_code == 302

    assert owner.call("words", "Lookup", {"word": "a"}).status_code == 200
    assert upstream.requests[-1].query["api_key"] == [CREDENTIAL]
    assert "x-api-key" not in upstream.requests[-1].headers


def test_credential_and_fields_stay_out_of_logs(
    operator: Client, upstream: FakeUpstream, owner: Persona, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    add_service(operator, upstream.url, credential_placement="query", credential_name="api_key")
    caplog.set_level(logging.DEBUG)

    assert owner.call("words", "Lookup", {"word": "private-word-77"}).status_code == 200

    logged = "\n".join(record.getMessage() + str(record.args) for record in caplog.records)
    assert CREDENTIAL not in logged
    assert "private-word-77" not in logged


def test_credential_is_encrypted_and_never_shown(words: Service, operator: Client) -> None:
    config = UpstreamConfig.objects.get(service=words)
    assert config.credential_encrypted
    assert CREDENTIAL not in config.credential_encrypted

    page = operator.get(f"/admin/catalog/service/{words.pk}/change/").content.decode()

    assert CREDENTIAL not in page
    assert config.credential_encrypted not in page
    assert "ending in …2a7b" in page


def test_blank_credential_on_edit_keeps_stored_one(words: Service, operator: Client, owner: Persona) -> None:
    config = UpstreamConfig.objects.get(service=words)
    data = admin_change_form_data(operator.get(f"/admin/catalog/service/{words.pk}/change/"))
    data["upstream-0-read_timeout_ms"] = "1500"

    response = operator.post(f"/admin/catalog/service/{words.pk}/change/", data)

    assert response.status_code == 302, [f.errors for s in response.context["inline_admin_formsets"] for f in s.formset.forms]
    config.refresh_from_db()
    assert config.read_timeout_ms == 1500
    assert owner.call("words", "Lookup", {"word": "kept"}).status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "code", "error_id"),
    [
        ("Slow", 504, "v1.upstream_timeout"),
        ("Fail", 502, "v1.upstream_error"),
        ("Html", 502, "v1.upstream_error"),
        ("List", 502, "v1.upstream_error"),
        ("Big", 502, "v1.upstream_error"),
        ("Redirect", 502, "v1.upstream_error"),
    ],
)
def test_upstream_failure_is_envelope_and_not_charged(
    words: Service, owner: Persona, settings: Any, endpoint: str, code: int, error_id: str
) -> None:
    settings.M3O_UPSTREAM_MAX_RESPONSE_BYTES = 100_000
    before = owner.balance

    response = owner.call("words", endpoint, {})

    assert_envelope(response, code, error_id)
    assert owner.balance == before
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.USAGE).exists()
    assert UsageEvent.objects.get().cost_units == 0


@pytest.mark.parametrize("endpoint", ["Huge", "Bomb"])
def test_response_over_cap_is_502_at_default_limit(words: Service, owner: Persona, endpoint: str) -> None:
    before = owner.balance
    body = assert_envelope(owner.call("words", endpoint, {}), 502, "v1.upstream_error")
    assert "over the limit" in body["detail"]
    assert owner.balance == before


def test_gzip_response_reaches_caller_intact(words: Service, owner: Persona) -> None:
    response = owner.call("words", "Gzip", {})
    assert response.status_code == 200
    assert response.json() == {"word": "zipped", "length": 6}
    assert int(response["Content-Length"]) == len(response.content)
    assert "Content-Encoding" not in response


def test_client_headers_are_not_forwarded(words: Service, upstream: FakeUpstream, owner: Persona) -> None:
    response = owner.call(
        "words",
        "Lookup",
        {"word": "x"},
        headers={"Connection": "X-Secret", "X-Secret": "1", "Cookie": "session=abc", "X-Forwarded-For": "10.0.0.1"},
    )
    assert response.status_code == 200
    seen = upstream.requests[-1].headers
    assert "x-secret" not in seen
    assert "cookie" not in seen
    assert "x-forwarded-for" not in seen
    assert "authorization" not in seen


def test_deeply_nested_upstream_json_is_502(words: Service, owner: Persona) -> None:
    before = owner.balance
    assert_envelope(owner.call("words", "Deep", {}), 502, "v1.upstream_error")
    assert owner.balance == before


def test_trickling_upstream_stops_at_call_limit(words: Service, owner: Persona, settings: Any) -> None:
    settings.M3O_UPSTREAM_MAX_CALL_SECONDS = 2
    before = owner.balance
    assert_envelope(owner.call("words", "Trickle", {}), 504, "v1.upstream_timeout")
    assert owner.balance == before


@pytest.mark.parametrize("word", [".", ".."])
def test_dot_segments_cannot_leave_the_path(words: Service, upstream: FakeUpstream, owner: Persona, word: str) -> None:
    Endpoint.objects.filter(service__slug="words", name="Lookup").update(request_schema={})
    seen_before = len(upstream.requests)
    body = assert_envelope(owner.call("words", "Lookup", {"word": word}), 400, "v1.invalid_request")
    assert "word" in body["fields"]
    assert len(upstream.requests) == seen_before


def test_idempotency_key_replays_upstream_call(words: Service, upstream: FakeUpstream, owner: Persona) -> None:
    before = owner.balance
    headers = {"Idempotency-Key": "upstream-1"}
    first = owner.call("words", "Echo", {"text": "once"}, headers=headers)
    second = owner.call("words", "Echo", {"text": "once"}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert owner.balance == before - 300
    assert sum(1 for seen in upstream.requests if seen.path == "/api/echo") == 1


def test_unreachable_upstream_is_502(operator: Client, owner: Persona, settings: Any) -> None:
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = ["127.0.0.1"]
    # Port 9 (discard) is closed on loopback, so the connection is refused.
    assert add_service(operator, "http://127.0.0.1:9/api").status_code == 302

    assert_envelope(owner.call("words", "Echo", {}), 502, "v1.upstream_error")


def test_private_address_refused_by_default(words: Service, owner: Persona, settings: Any) -> None:
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = []
    settings.M3O_UPSTREAM_ALLOW_PRIVATE = False
    before = owner.balance

    body = assert_envelope(owner.call("words", "Echo", {}), 502, "v1.upstream_error")

    assert "private or reserved address" in body["detail"]
    assert owner.balance == before


def test_allow_private_setting_allows_loopback(words: Service, owner: Persona, settings: Any) -> None:
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = []
    settings.M3O_UPSTREAM_ALLOW_PRIVATE = True
    assert owner.call("words", "Echo", {}).status_code == 200


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fd00:ec2::254", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    import ipaddress

    assert _is_public(ipaddress.ip_address(address)) is public


def test_missing_path_field_is_400_and_not_charged(words: Service, owner: Persona) -> None:
    Endpoint.objects.filter(service__slug="words", name="Lookup").update(request_schema={})
    before = owner.balance

    body = assert_envelope(owner.call("words", "Lookup", {}), 400, "v1.invalid_request")

    assert body["fields"] == {"word": "This field is required."}
    assert owner.balance == before


def test_undecryptable_credential_is_502(words: Service, owner: Persona, settings: Any) -> None:
    settings.M3O_FIELD_ENCRYPTION_KEY = "a different key than the one that encrypted it"

    body = assert_envelope(owner.call("words", "Echo", {}), 502, "v1.upstream_error")

    assert "enter it again" in body["detail"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"base_url": "ftp://example.com"}, "base_url", "https://"),
        ({"base_url": "https://user:pw@example.com"}, "base_url", "credential field"),
        ({"credential_name": ""}, "credential_name", "Name the header"),
        ({"credential_name": "Host"}, "credential_name", "sets Host itself"),
        ({"credential_name": "Bad Header"}, "credential_name", "not a valid HTTP header"),
        ({"credential": ""}, "credential", "Enter the credential"),
        ({"connect_timeout_ms": "5"}, "connect_timeout_ms", "from 100 to 60000"),
        ({"read_timeout_ms": "999999"}, "read_timeout_ms", "from 100 to 300000"),
    ],
)
def test_bad_upstream_settings_are_form_errors(
    operator: Client, upstream: FakeUpstream, overrides: dict[str, str], field: str, message: str
) -> None:
    response = add_service(operator, upstream.url, **overrides)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.forms[0].errors
    assert message in " ".join(errors[field])
    assert not Service.objects.filter(slug="words").exists()


def test_upstream_endpoint_needs_method_and_path(operator: Client, upstream: FakeUpstream) -> None:
    response = add_service(
        operator, upstream.url, endpoints=[{"name": "Lookup", "price_units": "1", "upstream_method": "", "upstream_path": ""}]
    )

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "HTTP method" in errors["upstream_method"][0]
    assert "path to call" in errors["upstream_path"][0]


@pytest.mark.parametrize(
    ("path", "message"),
    [("words", "must start with '/'"), ("/w?x=1", "cannot contain '?'"), ("/w/{1x}", "not a valid placeholder"),
     ("/w/{x", "unmatched")],
)
def test_bad_upstream_path_is_form_error(operator: Client, upstream: FakeUpstream, path: str, message: str) -> None:
    response = add_service(operator, upstream.url, endpoints=[{"name": "Lookup", "price_units": "1", "upstream_path": path}])

    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert message in errors["upstream_path"][0]


def test_new_endpoint_needs_price(operator: Client, upstream: FakeUpstream) -> None:
    response = add_service(operator, upstream.url, endpoints=[{"name": "Lookup", "upstream_path": "/x"}])

    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert "Set the price" in errors["price_units"][0]


def test_upstream_service_without_settings_is_form_error(operator: Client) -> None:
    data = {"slug": "words", "name": "Words", "status": "draft", "backend": "upstream", **endpoint_rows([])}
    data.update({"upstream-TOTAL_FORMS": "0", "upstream-INITIAL_FORMS": "0", "upstream-MIN_NUM_FORMS": "0",
                 "upstream-MAX_NUM_FORMS": "1"})

    response = operator.post("/admin/catalog/service/add/", data)

    assert response.status_code == 200
    assert "needs its upstream settings" in response.content.decode()
