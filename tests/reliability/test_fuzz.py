"""Schemathesis against the platform's own OpenAPI document, through the gateway, with a funded key.

Every operation of every listed service gets a fixed number of generated
requests, valid ones (by its request schema) and invalid ones, derandomized so
a run is repeatable. Each response must:

- not be a 5xx, except the documented 503 of a provider-backed service that
  has no provider configured, which must still be the envelope;
- be the one error envelope whenever it is not a 2xx;
- match the operation's documented status codes, content type and response
  schema (schemathesis' own checks);
- reject invalid requests (schemathesis' negative_data_rejection).

The dashboard gets the same treatment more cheaply: every POST route, as a
signed-in owner, with form fields named after the page's inputs and generated
values, sent as a form and as JSON, must not return a 5xx.

Outbound features (ping, tunnel, rss, cron) run offline: host names resolve
to one public address and a local httpx transport returns every outbound
response, so no request leaves this machine.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import socket
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from services import outbound
from tests.conftest import Persona
from tests.localstripe import localstripe_url, stripe_api  # noqa: F401

pytestmark = pytest.mark.django_db

# Examples per operation and mode: 2,130 calls over 142 operations, about 60 s on a shared 2-core machine (PostgreSQL).
POSITIVE_EXAMPLES = 10
NEGATIVE_EXAMPLES = 5
# Per dashboard route: 1,032 posts over 258 routes, about 30 s on the same machine.
DASHBOARD_EXAMPLES = 4
FUNDS_UNITS = 10**12
ENVELOPE_KEYS = {"id", "code", "detail", "status", "fields"}
ERROR_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
# The address every host name resolves to here. Nothing connects to it, because offline_outbound replaces the client.
PUBLIC_ADDRESS = "93.184.215.14"


def envelope_problems(status: int, content: bytes) -> list[str]:
    """What is wrong with a non-2xx body as the error envelope (empty when it is one)."""
    try:
        body = json.loads(content)
    except ValueError:
        return [f"not JSON: {content[:200]!r}"]
    if not isinstance(body, dict):
        return [f"not an object: {body!r}"[:300]]
    problems = []
    if not {"id", "code", "detail", "status"} <= set(body) or not set(body) <= ENVELOPE_KEYS:
        problems.append(f"keys {sorted(body)}")
    if not isinstance(body.get("id"), str) or not ERROR_ID.match(body["id"]):
        problems.append(f"id {body.get('id')!r}")
    if body.get("code") != status:
        problems.append(f"code {body.get('code')!r} for HTTP {status}")
    if body.get("status") != HTTPStatus(status).phrase:
        problems.append(f"status {body.get('status')!r}")
    if not isinstance(body.get("detail"), str) or not body["detail"].strip():
        problems.append(f"detail {body.get('detail')!r}")
    fields = body.get("fields")
    if "fields" in body and not (
        isinstance(fields, dict) and fields and all(isinstance(v, str) for v in fields.values())
    ):
        problems.append(f"fields {fields!r}")
    return problems


def test_envelope_check_catches_wrong_shapes() -> None:
    good = {"id": "v1.bad_request", "code": 400, "detail": "Bad.", "status": "Bad Request"}
    assert envelope_problems(400, json.dumps(good).encode()) == []
    assert envelope_problems(400, json.dumps({**good, "fields": {"a": "missing"}}).encode()) == []
    assert envelope_problems(400, b"<html>")
    assert envelope_problems(400, json.dumps({**good, "code": 404}).encode())
    assert envelope_problems(400, json.dumps({**good, "extra": 1}).encode())
    assert envelope_problems(400, json.dumps({**good, "id": ""}).encode())
    assert envelope_problems(400, json.dumps({**good, "fields": {"a": 1}}).encode())


@pytest.fixture
def offline_outbound(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Resolve every host name to PUBLIC_ADDRESS and return every outbound response locally; yield the requested URLs."""
    real_getaddrinfo = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(str(host).strip("[]").split("%", 1)[0])
        except ValueError:
            if outbound.literal_address(str(host)) is None:
                host = PUBLIC_ADDRESS
        return real_getaddrinfo(host, port, *args, **{**kwargs, "flags": socket.AI_NUMERICHOST})

    def respond(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, text="ok", headers={"Content-Type": "text/plain"})

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(outbound, "client", httpx.Client(transport=httpx.MockTransport(respond), follow_redirects=False))
    yield asked


def platform_schema(client: Client) -> Any:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return schemathesis.openapi.from_dict(response.json())


def provider_backed(slug: str) -> bool:
    from services.providers import dispatch

    return dispatch.get(slug) is not None


def declared_paths() -> set[str]:
    """The path of every endpoint of every built-in service (provider-backed ones included), from their declarations."""
    from services import registry

    services = registry.all_services()
    paths = {f"/v1/{service.slug}/{endpoint.name}" for service in services for endpoint in service.endpoints}
    assert len(paths) > 100
    return paths


def request_body(case: Any) -> bytes:
    if isinstance(case.body, NotSet):
        return b""
    if isinstance(case.body, bytes):
        return case.body
    return json.dumps(case.body).encode()


def send(persona: Persona, case: Any) -> httpx.Response:
    """Send a generated case through the gateway with the persona's key; return it as an httpx response."""
    body = request_body(case)
    path = case.formatted_path
    response = persona.client.post(
        path,
        data=body,
        content_type=case.media_type or "application/json",
        headers={"Authorization": f"Bearer {persona.secret}"},
    )
    request = httpx.Request("POST", f"http://testserver{path}", content=body,
                            headers={"Content-Type": case.media_type or "application/json"})
    converted = httpx.Response(response.status_code, headers=dict(response.items()), content=response.content, request=request)
    converted.elapsed = dt.timedelta(0)  # schemathesis reads it; the Django test client does not time requests
    return converted


def test_every_operation_survives_generated_requests(
    owner: Persona, offline_outbound: list[str], settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.M3O_RATE_LIMIT_PER_KEY = settings.M3O_RATE_LIMIT_PER_ACCOUNT = 10**6
    settings.M3O_OUTBOUND_REQUESTS_PER_MINUTE = 10**6
    owner.set_balance(FUNDS_UNITS)
    schema = platform_schema(owner.client)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.path for operation in operations} >= declared_paths()
    failures: list[str] = []
    cases = 0
    started = time.monotonic()

    for operation in operations:
        slug = operation.path.split("/")[2]
        for mode, examples in ((GenerationMode.POSITIVE, POSITIVE_EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
            checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
            if not mode.is_positive:
                checks.append(negative_data_rejection)

            @hypothesis.settings(
                max_examples=examples,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                nonlocal cases
                cases += 1
                response = send(owner, case)
                label = f"{operation.label} [{mode.value}] body={request_body(case)[:300]!r}"
                status = response.status_code
                if status >= 500 and not (status == 503 and provider_backed(slug)):
                    failures.append(f"{label}: HTTP {status} {response.content[:300]!r}")
                    return
                if status >= 300:
                    problems = envelope_problems(status, response.content)
                    if problems:
                        failures.append(f"{label}: HTTP {status} not the envelope: {problems}")
                        return
                try:
                    case.validate_response(response, checks=checks)
                except Exception as exc:  # noqa: BLE001 -- every check failure is collected, not just the first
                    failures.append(f"{label}: HTTP {status}: {str(exc)[:600]}")

            run()

    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\nfuzz: {cases} cases over {len(operations)} operations in {elapsed:.0f} s; "
              f"outbound requests served locally: {len(offline_outbound)}")
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(failures[:60])


# The dashboard: every POST route with generated form fields and JSON bodies, signed in as the owner.

# Deleting the user would leave no user to sign in for the remaining routes. Each case signs in again, so logouts are harmless.
SESSION_ENDING = {"account_delete"}
SPECIAL_VALUES = ["", "0", "-1", "1.5", "1e309", "99999999999999999999", "NaN", "../..", "<b>x</b>", "\x00", "é" * 300]
FIELD_NAME = re.compile(rb'name="([A-Za-z_][\w-]{0,40})"')
field_values = st.one_of(st.sampled_from(SPECIAL_VALUES), st.text(max_size=40), st.integers().map(str))


def form_fields(client: Client, url: str) -> list[str]:
    """Return the input names of the page at ``url`` (what its forms post), plus the names every form shares."""
    page = client.get(url)
    names = set(FIELD_NAME.findall(page.content)) if page.status_code == 200 else set()
    return sorted({name.decode() for name in names} - {"csrfmiddlewaretoken"} | {"account", "next"})


def test_dashboard_posts_survive_generated_fields(
    owner: Persona, stripe_api: str, offline_outbound: list[str], capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    from tests.reliability.test_web import CSRF_EXEMPT, route_urls

    failures: list[str] = []
    cases = 0
    routes = [(name, url) for name, url in route_urls() if name not in CSRF_EXEMPT | SESSION_ENDING]

    for name, url in routes:
        fields = form_fields(owner.client, url)
        bodies = st.dictionaries(st.sampled_from(fields), field_values, max_size=len(fields))

        @hypothesis.settings(
            max_examples=DASHBOARD_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(body=bodies, as_json=st.booleans())
        def run(body: dict[str, str], as_json: bool) -> None:
            nonlocal cases
            cases += 1
            owner.client.force_login(owner.user)
            if as_json:
                response = owner.client.post(url, data=json.dumps(body), content_type="application/json")
            else:
                response = owner.client.post(url, data=body)
            if response.status_code >= 500:
                failures.append(f"{name} {url} {'json' if as_json else 'form'} {body!r}: HTTP {response.status_code}")

        run()

    with capsys.disabled():
        print(f"\nfuzz: {cases} dashboard cases over {len(routes)} routes")
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(failures[:60])
