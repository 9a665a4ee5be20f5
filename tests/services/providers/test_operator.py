"""What operators set in admin and what developers then see: provider choice, credential, cache, availability."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from catalog import crypto
from catalog.models import Endpoint, Service
from services.providers.models import ProviderConfig
from tests.conftest import Persona
from tests.processes import free_port
from tests.services.providers.conftest import CREDENTIALS, configure
from tests.services.providers.fake_provider import FakeProviders, Reply
from tests.services.test_gateway import assert_envelope, assert_not_charged

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/providers/providerconfig/add/"
WEATHER_FIELDS = [
    "location", "region", "country", "latitude", "longitude", "timezone", "local_time", "temp_c", "temp_f",
    "feels_like_c", "feels_like_f", "humidity", "cloud", "daytime", "condition", "wind_kph", "wind_mph",
    "wind_degree", "wind_direction",
]
DAY_FIELDS = [
    "date", "max_temp_c", "max_temp_f", "min_temp_c", "min_temp_f", "avg_temp_c", "avg_temp_f", "will_it_rain",
    "chance_of_rain", "condition", "sunrise", "sunset", "max_wind_kph", "max_wind_mph",
]


def admin_form(service: str, provider: str, **fields: Any) -> dict[str, Any]:
    return {
        "service": str(Service.objects.get(slug=service).pk),
        "provider": provider,
        "credential": "",
        "base_url": "",
        "cache_seconds": "{}",
        "connect_timeout_ms": "1000",
        "read_timeout_ms": "2000",
        **fields,
    }


def change_url(config: ProviderConfig) -> str:
    return f"/admin/providers/providerconfig/{config.pk}/change/"


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != []


# --- Admin --------------------------------------------------------------------------------------


def test_operator_sets_a_provider_and_its_credential_is_stored_encrypted(
    operator: Client, providers: FakeProviders
) -> None:
    credential = CREDENTIALS["weatherapi"]

    response = operator.post(
        ADD_URL,
        admin_form("weather", "weatherapi", credential=credential, base_url=providers.base_url("weatherapi")),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    config = ProviderConfig.objects.get(service__slug="weather")
    assert config.provider == "weatherapi"
    assert credential not in config.credential_encrypted
    assert crypto.decrypt(config.credential_encrypted) == credential
    page = operator.get(change_url(config)).content.decode()
    assert credential not in page
    assert f"ending in …{credential[-4:]}" in page
    listing = operator.get("/admin/providers/providerconfig/").content.decode()
    assert credential not in listing


def test_saving_without_a_new_credential_keeps_the_stored_one(operator: Client, providers: FakeProviders) -> None:
    config = configure("weather", "weatherapi", providers)

    response = operator.post(change_url(config), admin_form("weather", "weatherapi", base_url=config.base_url))

    assert response.status_code == 302
    config.refresh_from_db()
    assert crypto.decrypt(config.credential_encrypted) == CREDENTIALS["weatherapi"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"provider": "frankfurter"}, "provider", "Weather can use only these providers"),
        ({"provider": "weatherapi"}, "credential", "WeatherAPI.com needs a credential"),
        ({"cache_seconds": '{"Rates": 60}'}, "cache_seconds", "Rates is not an endpoint of Weather"),
        ({"cache_seconds": '{"Now": -5}'}, "cache_seconds", "must be a whole number of seconds"),
        ({"cache_seconds": '{"Now": 1.5}'}, "cache_seconds", "must be a whole number of seconds"),
        ({"cache_seconds": "[60]"}, "cache_seconds", "Enter an object"),
        ({"cache_seconds": "{nope"}, "cache_seconds", "Enter a valid JSON"),
        ({"base_url": "ftp://127.0.0.1/x"}, "base_url", "http:// or https://"),
        ({"credential": "abc\ndef", "provider": "weatherapi"}, "credential", "line breaks"),
        ({"read_timeout_ms": "50"}, "read_timeout_ms", "from 100 to 120000"),
    ],
)
def test_operator_mistakes_are_form_errors(operator: Client, fields: dict[str, Any], field: str, message: str) -> None:
    response = operator.post(ADD_URL, {**admin_form("weather", "open-meteo"), **fields})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not ProviderConfig.objects.exists()


def test_switching_the_weather_provider_in_admin_keeps_every_field_filled(
    operator: Client, owner: Persona, providers: FakeProviders
) -> None:
    response = operator.post(
        ADD_URL, admin_form("weather", "open-meteo", base_url=providers.base_url("open-meteo"))
    )
    assert response.status_code == 302
    now_open_meteo = owner.call("weather", "Now", {"location": "London"}).json()
    forecast_open_meteo = owner.call("weather", "Forecast", {"location": "London", "days": 1}).json()

    config = ProviderConfig.objects.get(service__slug="weather")
    response = operator.post(
        change_url(config),
        admin_form("weather", "weatherapi", credential=CREDENTIALS["weatherapi"],
                   base_url=providers.base_url("weatherapi")),
    )
    assert response.status_code == 302
    now_weatherapi = owner.call("weather", "Now", {"location": "London"}).json()
    forecast_weatherapi = owner.call("weather", "Forecast", {"location": "London", "days": 1}).json()

    assert {request.provider for request in providers.requests} == {"open-meteo", "weatherapi"}
    for now in (now_open_meteo, now_weatherapi):
        assert all(_filled(now[name]) for name in WEATHER_FIELDS), now
    for forecast in (forecast_open_meteo, forecast_weatherapi):
        assert all(_filled(forecast["forecast"][0][name]) for name in DAY_FIELDS), forecast
    assert now_open_meteo == now_weatherapi
    assert forecast_open_meteo == forecast_weatherapi


def test_switching_the_currency_provider_gives_the_same_answers(owner: Persona, providers: FakeProviders) -> None:
    requests = [("Codes", {}), ("Rates", {"code": "USD"}), ("Convert", {"from": "USD", "to": "EUR", "amount": 10}),
                ("History", {"code": "USD", "date": "2026-01-02"})]
    answers = {}
    for provider in ("frankfurter", "exchangerate-host"):
        configure("currency", provider, providers)
        answers[provider] = [owner.call("currency", name, body).json() for name, body in requests]

    assert answers["frankfurter"] == answers["exchangerate-host"]


# --- Unavailable services -----------------------------------------------------------------------


def test_service_without_a_provider_answers_a_clear_503_and_charges_nothing(owner: Persona) -> None:
    before = owner.balance

    response = owner.call("weather", "Now", {"location": "London"})

    body = assert_envelope(response, 503, "weather.unavailable")
    assert "an operator has not chosen and set up its data provider" in body["detail"]
    assert "not charged" in body["detail"]
    assert_not_charged(owner, before)


def test_provider_that_needs_a_credential_without_one_is_unavailable(owner: Persona, providers: FakeProviders) -> None:
    configure("weather", "weatherapi", providers, credential="")

    response = owner.call("weather", "Now", {"location": "London"})

    assert_envelope(response, 503, "weather.unavailable")
    assert providers.requests == []


def test_credential_encrypted_with_another_key_makes_the_service_unavailable(
    owner: Persona, providers: FakeProviders, settings: Any
) -> None:
    configure("weather", "weatherapi", providers)
    settings.M3O_FIELD_ENCRYPTION_KEY = "a different key than the one it was stored with"

    response = owner.call("weather", "Now", {"location": "London"})

    assert_envelope(response, 503, "weather.unavailable")


def test_catalog_lists_services_without_a_provider_as_unavailable(client: Client, providers: FakeProviders) -> None:
    configure("currency", "frankfurter", providers)

    explore = client.get("/explore/").content.decode()
    weather_page = client.get("/explore/weather/").content.decode()
    currency_page = client.get("/explore/currency/").content.decode()
    api = {service["slug"]: service for service in client.get("/api/catalog/services/?q=weather").json()["results"]}

    assert "unavailable" in explore
    assert 'id="service-unavailable"' in weather_page
    assert 'id="service-unavailable"' not in currency_page
    assert api["weather"]["available"] is False
    assert client.get("/api/catalog/services/currency/").json()["available"] is True
    assert client.get("/api/catalog/services/holidays/").json()["available"] is True  # its library answers


# --- The outbound guard ---------------------------------------------------------------------------


def test_loopback_base_url_is_refused_unless_the_operator_allows_its_host(
    owner: Persona, providers: FakeProviders, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    configure("weather", "weatherapi", providers)
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = []
    before = owner.balance

    response = owner.call("weather", "Now", {"location": "London"})

    body = assert_envelope(response, 502, "weather.provider_error")
    assert "127.0.0.1" not in body["detail"]
    assert providers.requests == []
    assert "Provider call rejected by the outbound guard" in caplog.text
    assert_not_charged(owner, before)


# --- Quotas and the holidays default -------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "provider", "endpoint", "body", "path", "reply"),
    [
        ("weather", "weatherapi", "Now", {"location": "London"}, "/v1/current.json",
         Reply(403, {"error": {"code": 2007, "message": "API key has exceeded calls per month quota."}})),
        ("translate", "deepl", "Text", {"contents": ["Hello world"], "target": "de"}, "/v2/translate",
         Reply(456, {"message": "Quota exceeded"})),
        ("currency", "exchangerate-host", "Rates", {"code": "USD"}, "/live",
         Reply(200, {"success": False, "error": {"code": 104, "type": "usage_limit_reached"}})),
        ("news", "thenewsapi", "Headlines", {}, "/v1/news/top",
         Reply(402, {"error": {"code": "usage_limit_reached", "message": "Usage limit reached."}})),
    ],
)
def test_used_up_provider_quota_is_a_503_that_alerts_the_operators(
    owner: Persona, providers: FakeProviders, settings: Any, service: str, provider: str, endpoint: str,
    body: dict[str, Any], path: str, reply: Reply,
) -> None:
    settings.M3O_OPERATOR_EMAILS = ["ops@example.com"]
    configure(service, provider, providers)
    providers.set(provider, path, reply)
    mail.outbox.clear()

    response = owner.call(service, endpoint, body)

    assert_envelope(response, 503, f"{service}.unavailable")
    assert len(mail.outbox) == 1 and "quota" in mail.outbox[0].subject


def test_holidays_answer_from_the_library_until_an_operator_picks_nager(
    owner: Persona, providers: FakeProviders
) -> None:
    library = owner.call("holidays", "List", {"country_code": "DE", "year": 2026})
    assert library.status_code == 200
    assert len(library.json()["holidays"]) > 5
    assert providers.requests == []

    configure("holidays", "nager", providers)
    nager = owner.call("holidays", "List", {"country_code": "DE", "year": 2026})

    assert nager.status_code == 200
    assert nager.json()["holidays"] == [{"date": "2026-01-01", "name": "New Year's Day", "local_name": "Neujahr"}]
    assert library.json()["holidays"][0] == nager.json()["holidays"][0]


def test_holidays_library_examples_still_run(owner: Persona) -> None:
    for endpoint in Endpoint.objects.filter(service__slug="holidays"):
        for example in endpoint.examples:
            response = owner.call("holidays", endpoint.name, example["request"])
            assert response.status_code == 200
            answer = response.json()
            for key, value in example["response"].items():
                if isinstance(value, list):
                    assert all(item in answer[key] for item in value)
                else:
                    assert answer[key] == value


# --- Email through Django's email framework ------------------------------------------------------


def test_email_through_the_platform_smtp_settings(owner: Persona, settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "M3O <mail@platform.example>"
    configure("email", "smtp")
    mail.outbox.clear()

    response = owner.call("email", "Send", {
        "from": "Acme Support", "to": "alice@example.com", "reply_to": "help@acme.example", "subject": "Welcome",
        "text_body": "Hello Alice", "html_body": "<p>Hello Alice</p>",
    })

    assert response.status_code == 200, response.content
    assert response.json() == {}
    (message,) = mail.outbox
    assert message.from_email == "Acme Support <mail@platform.example>"
    assert message.to == ["alice@example.com"] and message.reply_to == ["help@acme.example"]
    assert message.alternatives[0][0] == "<p>Hello Alice</p>"
    assert int(response["X-M3O-Cost"]) > 0


def test_email_is_the_default_mail_server_when_unreachable_a_502_not_charged(
    owner: Persona, settings: Any
) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2}}}
    configure("email", "smtp")
    before = owner.balance

    response = owner.call("email", "Send", {"from": "Acme", "to": "alice@example.com", "subject": "Hi",
                                            "text_body": "Hello"})

    assert_envelope(response, 502, "email.provider_error")
    assert_not_charged(owner, before)


def test_email_header_injection_is_refused(owner: Persona) -> None:
    configure("email", "smtp")

    response = owner.call("email", "Send", {"from": "Acme\r\nBcc: victim@example.com", "to": "alice@example.com",
                                            "subject": "Hi", "text_body": "Hello"})

    assert_envelope(response, 400, "v1.invalid_request")
    assert mail.outbox == []


# --- The response cache ------------------------------------------------------------------------


def test_public_data_is_cached_for_every_account_for_the_operator_lifetime(
    owner: Persona, outsider: Persona, providers: FakeProviders
) -> None:
    configure("currency", "frankfurter", providers, cache_seconds={"Rates": 60})

    first = owner.call("currency", "Rates", {"code": "USD"})
    second = outsider.call("currency", "Rates", {"code": "USD"})

    assert first.json() == second.json()
    assert len(providers.seen("frankfurter")) == 1
    assert int(second["X-M3O-Cost"]) > 0  # a cached answer is still a successful call


def test_private_data_is_cached_per_account(owner: Persona, outsider: Persona, providers: FakeProviders) -> None:
    configure("translate", "deepl", providers, cache_seconds={"Text": 300})
    body = {"contents": ["Hello world"], "target": "de"}

    owner.call("translate", "Text", body)
    owner.call("translate", "Text", body)
    outsider.call("translate", "Text", body)

    assert len(providers.seen("deepl")) == 2


def test_endpoints_without_a_lifetime_are_not_cached(owner: Persona, providers: FakeProviders) -> None:
    configure("currency", "frankfurter", providers, cache_seconds={"Rates": 60})

    owner.call("currency", "Codes", {})
    owner.call("currency", "Codes", {})

    assert len(providers.seen("frankfurter")) == 2


def test_failures_are_not_cached(owner: Persona, providers: FakeProviders) -> None:
    configure("currency", "frankfurter", providers, cache_seconds={"Rates": 60})
    providers.set("frankfurter", "/latest", Reply(500, {}))
    assert owner.call("currency", "Rates", {"code": "USD"}).status_code == 502

    del providers.overrides[("frankfurter", "/latest")]

    assert owner.call("currency", "Rates", {"code": "USD"}).status_code == 200


def test_changing_the_provider_settings_drops_cached_answers(
    operator: Client, owner: Persona, providers: FakeProviders
) -> None:
    config = configure("currency", "frankfurter", providers, cache_seconds={"Rates": 60})
    owner.call("currency", "Rates", {"code": "USD"})

    response = operator.post(change_url(config), admin_form(
        "currency", "exchangerate-host", credential=CREDENTIALS["exchangerate-host"],
        base_url=providers.base_url("exchangerate-host"), cache_seconds='{"Rates": 60}',
    ))
    assert response.status_code == 302
    owner.call("currency", "Rates", {"code": "USD"})

    assert len(providers.seen("exchangerate-host")) == 1


# --- Mapping details -----------------------------------------------------------------------------


def test_translate_several_texts_in_order(owner: Persona, providers: FakeProviders) -> None:
    configure("translate", "deepl", providers)
    providers.set("deepl", "/v2/translate", Reply(200, {"translations": [
        {"detected_source_language": "EN", "text": "Hallo"}, {"detected_source_language": "FR", "text": "Welt"},
    ]}))

    response = owner.call("translate", "Text", {"contents": ["Hello", "monde"], "target": "de"})

    assert response.json() == {"translations": [{"text": "Hallo", "source": "en"}, {"text": "Welt", "source": "fr"}]}
    assert providers.seen("deepl")[0].json()["text"] == ["Hello", "monde"]


def test_crypto_history_defaults_to_yesterday(owner: Persona, providers: FakeProviders) -> None:
    configure("crypto", "coinbase", providers)

    with time_machine.travel("2026-12-04T12:00:00Z", tick=True):
        response = owner.call("crypto", "History", {"symbol": "BTC-USD"})

    assert response.status_code == 200, response.content
    assert response.json()["date"] == "2026-12-03"
    (request,) = providers.seen("coinbase")
    assert (request.param("start"), request.param("end")) == ("2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z")


def test_crypto_symbol_without_a_known_quote_currency_is_a_400(owner: Persona, providers: FakeProviders) -> None:
    configure("crypto", "coinbase", providers)

    response = owner.call("crypto", "Price", {"symbol": "ABCXYZ"})

    body = assert_envelope(response, 400, "crypto.invalid_request")
    assert "BTC-USD" in body["detail"]
    assert providers.requests == []


def test_ip_lookup_of_a_private_address_is_a_400_without_a_provider_call(
    owner: Persona, providers: FakeProviders
) -> None:
    configure("ip", "ip-api", providers)

    response = owner.call("ip", "Lookup", {"ip": "10.0.0.1"})

    body = assert_envelope(response, 400, "ip.invalid_request")
    assert body["fields"] == {"ip": "10.0.0.1 is a private or reserved address, which has no location"}
    assert providers.requests == []
