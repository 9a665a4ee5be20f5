"""Contract tests of every HTTP adapter against the fake provider server: requests, responses and each error."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
from django.core import mail

from catalog.models import Endpoint
from services.providers import dispatch
from tests.conftest import Persona
from tests.services.providers.conftest import CREDENTIALS
from tests.services.providers.fake_provider import FakeProviders, Reply, Seen
from tests.services.providers.recordings import TWILIO_SID
from tests.services.test_gateway import assert_envelope, assert_not_charged

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    """How one provider is probed, and what its errors look like on the wire."""

    service: str
    provider: str
    endpoint: str
    body: dict[str, Any]
    path: str  # the provider path the probe calls first
    input_error: Reply
    reason: str  # words of the input error that must reach the caller
    auth_error: Reply
    rate_limit: Reply
    retry_after: str
    check: Callable[[list[Seen]], None] = field(default=lambda seen: None)


def _check_open_meteo(seen: list[Seen]) -> None:
    geocode, forecast = seen
    assert (geocode.path, geocode.param("name"), geocode.param("count")) == ("/v1/search", "London", "1")
    assert forecast.path == "/v1/forecast"
    assert (forecast.param("latitude"), forecast.param("longitude")) == ("51.50853", "-0.12574")
    assert forecast.param("timezone") == "Europe/London"
    assert "temperature_2m" in forecast.param("current")


def _check_weatherapi(seen: list[Seen]) -> None:
    (request,) = seen
    assert (request.path, request.param("q"), request.param("key")) == (
        "/v1/current.json", "London", CREDENTIALS["weatherapi"])


def _check_frankfurter(seen: list[Seen]) -> None:
    (request,) = seen
    assert (request.path, request.param("base")) == ("/latest", "USD")


def _check_exchangerate_host(seen: list[Seen]) -> None:
    (request,) = seen
    assert (request.path, request.param("source")) == ("/live", "USD")
    assert request.param("access_key") == CREDENTIALS["exchangerate-host"]


def _check_nominatim(seen: list[Seen]) -> None:
    (request,) = seen
    assert request.path == "/search"
    assert request.param("street") == "10 Downing Street"
    assert (request.param("city"), request.param("country")) == ("London", "United Kingdom")
    assert request.param("postalcode") is None
    assert (request.param("format"), request.param("limit")) == ("jsonv2", "1")


def _check_ip_api(seen: list[Seen]) -> None:
    (request,) = seen
    assert request.path == "/json/8.8.8.8"
    assert "as" in request.param("fields").split(",")


def _check_nager(seen: list[Seen]) -> None:
    (request,) = seen
    assert (request.method, request.path) == ("GET", "/api/v3/PublicHolidays/2026/DE")


def _check_thenewsapi(seen: list[Seen]) -> None:
    (request,) = seen
    assert request.path == "/v1/news/top"
    assert (request.param("language"), request.param("locale")) == ("en", "us")
    assert request.param("api_token") == CREDENTIALS["thenewsapi"]


def _check_deepl(seen: list[Seen]) -> None:
    (request,) = seen
    assert (request.method, request.path) == ("POST", "/v2/translate")
    assert request.json() == {"text": ["Hello world"], "target_lang": "DE"}
    assert request.headers["authorization"] == f"DeepL-Auth-Key {CREDENTIALS['deepl']}"


def _check_twilio(seen: list[Seen]) -> None:
    (request,) = seen
    assert (request.method, request.path) == ("POST", f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json")
    assert request.form() == {"From": "Example", "To": "+447700900123", "Body": "Your code is 123456"}
    expected = base64.b64encode(CREDENTIALS["twilio"].encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"


def _check_postmark(seen: list[Seen]) -> None:
    (request,) = seen
    assert (request.method, request.path) == ("POST", "/email")
    assert request.json() == {
        "From": "Acme <no-reply@localhost>", "To": "alice@example.com", "Subject": "Welcome",
        "TextBody": "Hello Alice, welcome to Acme.", "MessageStream": "outbound",
    }
    assert request.headers["x-postmark-server-token"] == CREDENTIALS["postmark"]


def _check_polygon(seen: list[Seen]) -> None:
    (request,) = seen
    assert request.path == "/v2/last/trade/AAPL"
    assert request.headers["authorization"] == f"Bearer {CREDENTIALS['polygon']}"


def _check_coinbase(seen: list[Seen]) -> None:
    (request,) = seen
    assert request.path == "/products/BTC-USD/ticker"


def _check_osrm(seen: list[Seen]) -> None:
    (request,) = seen
    assert request.path == "/route/v1/driving/-0.1276,51.5033;-0.1246,51.5007"
    assert request.param("steps") == "false"
    assert (request.param("overview"), request.param("geometries")) == ("full", "geojson")


ROUTE_BODY = {"origin": {"latitude": 51.5033, "longitude": -0.1276},
              "destination": {"latitude": 51.5007, "longitude": -0.1246}}

CASES = [
    Case("weather", "open-meteo", "Now", {"location": "London"}, "/v1/search",
         Reply(200, {"generationtime_ms": 0.3}), "no place matches 'London'",
         Reply(401, {"error": True, "reason": "Invalid API key"}),
         Reply(429, {"error": True, "reason": "Minutely API request limit exceeded."}), "60", _check_open_meteo),
    Case("weather", "weatherapi", "Now", {"location": "London"}, "/v1/current.json",
         Reply(400, {"error": {"code": 1006, "message": "No matching location found."}}), "No matching location found",
         Reply(401, {"error": {"code": 1002, "message": "API key is invalid or not provided."}}),
         Reply(429, {"error": {"code": 9999, "message": "Too many requests"}}, {"Retry-After": "17"}), "17",
         _check_weatherapi),
    Case("currency", "frankfurter", "Rates", {"code": "USD"}, "/latest",
         Reply(404, {"message": "not found"}), "not found",
         Reply(403, {"message": "Forbidden"}),
         Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "30"}), "30", _check_frankfurter),
    Case("currency", "exchangerate-host", "Rates", {"code": "USD"}, "/live",
         Reply(200, {"success": False, "error": {"code": 201, "type": "invalid_source_currency",
                                                 "info": "You have supplied an invalid Source Currency."}}),
         "the currency code is not supported",
         Reply(200, {"success": False, "error": {"code": 101, "type": "invalid_access_key",
                                                 "info": "You have not supplied a valid API Access Key."}}),
         Reply(429, {"message": "API rate limit exceeded"}, {"Retry-After": "5"}), "5", _check_exchangerate_host),
    Case("geocoding", "nominatim", "Lookup",
         {"address": "10 Downing Street", "city": "London", "country": "United Kingdom"}, "/search",
         Reply(200, []), "no place matches this address",
         Reply(403, b"<html><body>Access blocked</body></html>"),
         Reply(429, {"error": {"code": 429, "message": "Too Many Requests"}}, {"Retry-After": "2"}), "2",
         _check_nominatim),
    Case("ip", "ip-api", "Lookup", {"ip": "8.8.8.8"}, "/json/8.8.8.8",
         Reply(200, {"status": "fail", "message": "invalid query", "query": "8.8.8.8"}), "invalid query",
         Reply(403, {"status": "fail", "message": "invalid key"}),
         Reply(429, {"status": "fail", "message": "too many requests"}, {"X-Ttl": "40"}), "60", _check_ip_api),
    Case("holidays", "nager", "List", {"country_code": "DE", "year": 2026}, "/api/v3/PublicHolidays/2026/DE",
         Reply(404, b""), "the country code or year is not supported",
         Reply(401, {}),
         Reply(429, {}, {"Retry-After": "9"}), "9", _check_nager),
    Case("news", "thenewsapi", "Headlines", {"language": "en", "locale": "us"}, "/v1/news/top",
         Reply(400, {"error": {"code": "malformed_parameters", "message": "The published_on parameter is malformed."}}),
         "The published_on parameter is malformed",
         Reply(401, {"error": {"code": "invalid_api_token", "message": "Invalid API token."}}),
         Reply(429, {"error": {"code": "rate_limit_reached", "message": "Too many requests."}}, {"Retry-After": "60"}),
         "60", _check_thenewsapi),
    Case("translate", "deepl", "Text", {"contents": ["Hello world"], "target": "de"}, "/v2/translate",
         Reply(400, {"message": "Value for 'target_lang' not supported."}), "Value for 'target_lang' not supported",
         Reply(403, {"message": "Authorization failure, check auth_key"}),
         Reply(429, {"message": "Too many requests"}, {"Retry-After": "3"}), "3", _check_deepl),
    Case("sms", "twilio", "Send", {"from": "Example", "to": "+447700900123", "message": "Your code is 123456"},
         f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
         Reply(400, {"code": 21211, "message": "The 'To' number +447700900123 is not a valid phone number.",
                     "status": 400}), "The 'To' number +447700900123 is not a valid phone number",
         Reply(401, {"code": 20003, "message": "Authenticate", "status": 401}),
         Reply(429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"Retry-After": "1"}), "1",
         _check_twilio),
    Case("email", "postmark", "Send", {"from": "Acme", "to": "alice@example.com", "subject": "Welcome",
                                       "text_body": "Hello Alice, welcome to Acme."}, "/email",
         Reply(422, {"ErrorCode": 300, "Message": "Invalid 'To' address: 'alice@example.com'."}),
         "Invalid 'To' address: 'alice@example.com'",
         Reply(401, {"ErrorCode": 10, "Message": "Request does not contain a valid Server token."}),
         Reply(429, {"ErrorCode": 429, "Message": "Rate limit exceeded"}, {"Retry-After": "10"}), "10",
         _check_postmark),
    Case("stock", "polygon", "Now", {"stock": "AAPL"}, "/v2/last/trade/AAPL",
         Reply(404, {"status": "NOT_FOUND", "request_id": "x", "message": "Data not found."}), "Data not found",
         Reply(401, {"status": "ERROR", "request_id": "x", "error": "Unknown API Key"}),
         Reply(429, {"status": "ERROR", "error": "You've exceeded the maximum requests per minute."}), "60",
         _check_polygon),
    Case("crypto", "coinbase", "Price", {"symbol": "BTCUSD"}, "/products/BTC-USD/ticker",
         Reply(404, {"message": "NotFound"}), "no such trading pair",
         Reply(401, {"message": "Unauthorized."}),
         Reply(429, {"message": "Public rate limit exceeded"}, {"Retry-After": "1"}), "1", _check_coinbase),
    Case("routing", "osrm", "Route", ROUTE_BODY, "/route/v1/driving/-0.1276,51.5033;-0.1246,51.5007",
         Reply(400, {"code": "NoRoute", "message": "Impossible route between points"}),
         "Impossible route between points",
         Reply(403, {"message": "Forbidden"}),
         Reply(429, {"message": "Too many requests"}), "60", _check_osrm),
]
IDS = [case.provider for case in CASES]


def _assert_no_credential(case: Case, response: Any, caplog: pytest.LogCaptureFixture) -> None:
    credential = CREDENTIALS[case.provider]
    parts = {credential, *credential.split(":")}
    for part in parts:
        assert part not in response.content.decode()
        assert part not in caplog.text
        for message in mail.outbox:
            assert part not in message.body and part not in message.subject


def _price(service: str, endpoint: str) -> int:
    return Endpoint.objects.get(service__slug=service, name=endpoint).price_units


def test_every_http_adapter_has_a_contract_case() -> None:
    covered = {(case.service, case.provider) for case in CASES}
    http_adapters = {
        (service.slug, adapter.name)
        for service in dispatch.all_services()
        for adapter in service.adapters
        if any(mapping.run is None for mapping in adapter.endpoints.values())
    }
    assert http_adapters == covered


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_request_is_mapped_to_the_provider_call(
    case: Case, owner: Persona, providers: FakeProviders, use_provider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    use_provider(case.service, case.provider)

    response = owner.call(case.service, case.endpoint, case.body)

    assert response.status_code == 200, response.content
    case.check(providers.seen(case.provider))
    for request in providers.seen(case.provider):
        assert "m3o_" not in str(request.headers)  # the caller's key never reaches a provider
    assert response["X-M3O-Cost"] == str(_price(case.service, case.endpoint))
    _assert_no_credential(case, response, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_provider_rejecting_the_input_is_a_400_in_our_words(
    case: Case, owner: Persona, providers: FakeProviders, use_provider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    use_provider(case.service, case.provider)
    providers.set(case.provider, case.path, case.input_error)
    before = owner.balance

    response = owner.call(case.service, case.endpoint, case.body)

    body = assert_envelope(response, 400, f"{case.service}.invalid_request")
    assert case.reason in body["detail"]
    assert body["detail"].startswith(f"The {dispatch.get(case.service).title} service cannot answer this request")
    assert_not_charged(owner, before)
    assert response["X-M3O-Cost"] == "0"
    _assert_no_credential(case, response, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_provider_refusing_the_credential_is_a_503_and_alerts_the_operators(
    case: Case, owner: Persona, providers: FakeProviders, use_provider: Any, settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.M3O_OPERATOR_EMAILS = ["ops@example.com"]
    use_provider(case.service, case.provider)
    providers.set(case.provider, case.path, case.auth_error)
    before = owner.balance
    mail.outbox.clear()

    first = owner.call(case.service, case.endpoint, case.body)
    second = owner.call(case.service, case.endpoint, case.body)

    for response in (first, second):
        body = assert_envelope(response, 503, f"{case.service}.unavailable")
        assert "operators have been alerted" in body["detail"]
        assert response["Retry-After"]
    assert_not_charged(owner, before)
    assert len(mail.outbox) == 1  # one alert an hour, however many calls fail
    assert mail.outbox[0].to == ["ops@example.com"]
    assert case.provider in mail.outbox[0].body and case.service in mail.outbox[0].subject
    assert "Provider rejected the platform's credential" in caplog.text
    _assert_no_credential(case, first, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_provider_rate_limit_is_a_503_with_retry_after(
    case: Case, owner: Persona, providers: FakeProviders, use_provider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    use_provider(case.service, case.provider)
    providers.set(case.provider, case.path, case.rate_limit)
    before = owner.balance

    response = owner.call(case.service, case.endpoint, case.body)

    body = assert_envelope(response, 503, f"{case.service}.provider_rate_limited")
    assert response["Retry-After"] == case.retry_after
    assert f"retry after {case.retry_after} seconds" in body["detail"]
    assert_not_charged(owner, before)
    _assert_no_credential(case, response, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_provider_timeout_is_a_504(
    case: Case, owner: Persona, providers: FakeProviders, use_provider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    use_provider(case.service, case.provider, read_timeout_ms=200)
    providers.set(case.provider, case.path, Reply(200, {}, delay=1.0))
    before = owner.balance

    response = owner.call(case.service, case.endpoint, case.body)

    assert_envelope(response, 504, f"{case.service}.provider_timeout")
    assert_not_charged(owner, before)
    _assert_no_credential(case, response, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_provider_failure_is_a_502_that_names_no_provider(
    case: Case, owner: Persona, providers: FakeProviders, use_provider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    use_provider(case.service, case.provider)
    providers.set(case.provider, case.path, Reply(500, {"error": "internal"}))
    before = owner.balance

    response = owner.call(case.service, case.endpoint, case.body)

    body = assert_envelope(response, 502, f"{case.service}.provider_error")
    assert providers.url not in body["detail"] and "127.0.0.1" not in body["detail"]
    assert case.provider not in body["detail"].lower()
    assert_not_charged(owner, before)
    _assert_no_credential(case, response, caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_provider_answer_in_an_unknown_shape_is_a_502(
    case: Case, owner: Persona, providers: FakeProviders, use_provider: Any
) -> None:
    use_provider(case.service, case.provider)
    providers.set(case.provider, case.path, Reply(200, [1, 2, 3]))
    before = owner.balance

    response = owner.call(case.service, case.endpoint, case.body)

    assert_envelope(response, 502, f"{case.service}.provider_error")
    assert_not_charged(owner, before)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_provider_answer_that_is_not_json_is_a_502(
    case: Case, owner: Persona, providers: FakeProviders, use_provider: Any
) -> None:
    use_provider(case.service, case.provider)
    providers.set(case.provider, case.path, Reply(200, b"<html>maintenance</html>"))

    response = owner.call(case.service, case.endpoint, case.body)

    assert_envelope(response, 502, f"{case.service}.provider_error")


def _examples() -> list[Any]:
    cases = []
    for service in dispatch.all_services():
        for adapter in service.adapters:
            if adapter.name in {"library", "smtp"}:
                continue
            for endpoint in adapter.endpoints:
                cases.append(pytest.param(service.slug, adapter.name, endpoint,
                                          id=f"{service.slug}-{adapter.name}-{endpoint}"))
    return cases


@pytest.mark.parametrize(("service", "provider", "endpoint_name"), _examples())
def test_catalog_examples_run_green_through_the_gateway(
    service: str, provider: str, endpoint_name: str, owner: Persona, use_provider: Any
) -> None:
    use_provider(service, provider)
    endpoint = Endpoint.objects.get(service__slug=service, name=endpoint_name)
    assert endpoint.examples

    for example in endpoint.examples:
        response = owner.call(service, endpoint_name, example["request"])

        assert response.status_code == 200, response.content
        jsonschema.validate(response.json(), endpoint.response_schema)
        assert response.json() == example["response"], example["title"]
