"""currency: exchange rates and conversions, from Frankfurter or exchangerate.host."""

from __future__ import annotations

from typing import Any

from catalog.services import EndpointSpec
from services.providers.base import (
    Adapter,
    Auth,
    Classified,
    InputRejected,
    Mapping,
    Problem,
    ProviderRequest,
    ProviderService,
)
from services.providers.dispatch import provider_service_register
from services.providers.schema import array, number, obj, response, string

CODE = string("ISO 4217 currency code, such as USD.", pattern="^[A-Za-z]{3}$")
DATE = string("Date, YYYY-MM-DD.", format="date", pattern=r"^\d{4}-\d{2}-\d{2}$")
RATES = {"type": "object", "additionalProperties": {"type": "number"}, "description": "Units of each currency per 1 of code."}
# Converted amounts keep six decimals: enough for any currency's minor unit, without float noise.
DECIMALS = 6

RATES_EXAMPLE = {"EUR": 0.8612, "GBP": 0.7514, "JPY": 155.12}

ENDPOINTS = [
    EndpointSpec(
        name="Codes",
        description="List the supported currency codes and their names.",
        request_schema=obj({}),
        response_schema=response(
            {"codes": array(response({"name": string("Currency code."), "currency": string("Currency name.")}),
                            "Every supported currency.")}
        ),
        price_units=1_000,
        examples=[
            {
                "title": "All currencies",
                "request": {},
                "response": {"codes": [{"name": "EUR", "currency": "Euro"}, {"name": "GBP", "currency": "British Pound"},
                                       {"name": "JPY", "currency": "Japanese Yen"},
                                       {"name": "USD", "currency": "United States Dollar"}]},
            }
        ],
    ),
    EndpointSpec(
        name="Rates",
        description="Latest exchange rates of a currency against the others.",
        request_schema=obj({"code": CODE}, required=["code"]),
        response_schema=response({"code": string("The base currency."), "rates": RATES}),
        price_units=1_000,
        examples=[{"title": "US dollar rates", "request": {"code": "USD"},
                   "response": {"code": "USD", "rates": RATES_EXAMPLE}}],
    ),
    EndpointSpec(
        name="Convert",
        description="Convert an amount from one currency to another at the latest rate.",
        request_schema=obj(
            {"from": CODE, "to": CODE, "amount": number("Amount to convert. Default 1.", minimum=0, maximum=1e15)},
            required=["from", "to"],
        ),
        response_schema=response(
            {"from": string("Source currency."), "to": string("Target currency."),
             "amount": number("Converted amount."), "rate": number("Units of to per 1 of from.")}
        ),
        price_units=1_000,
        examples=[{"title": "10 US dollars in euros", "request": {"from": "USD", "to": "EUR", "amount": 10},
                   "response": {"from": "USD", "to": "EUR", "amount": 8.612, "rate": 0.8612}}],
    ),
    EndpointSpec(
        name="History",
        description="Exchange rates of a currency on a past date.",
        request_schema=obj({"code": CODE, "date": DATE}, required=["code", "date"]),
        response_schema=response({"code": string("The base currency."), "date": string("Date of the rates."),
                                  "rates": RATES}),
        price_units=1_000,
        examples=[{"title": "US dollar rates on 2 January 2026", "request": {"code": "USD", "date": "2026-01-02"},
                   "response": {"code": "USD", "date": "2026-01-02",
                                "rates": {"EUR": 0.8523, "GBP": 0.7431, "JPY": 157.2}}}],
    ),
]


def _upper(body: dict[str, Any], name: str) -> str:
    return str(body[name]).upper()


def _converted(amount: float, rate: float) -> float:
    return round(amount * rate, DECIMALS)


# --- Frankfurter: European Central Bank rates, no key ------------------------------------------

def _fr_rates(payload: Any, code: str) -> dict[str, float]:
    return {name: rate for name, rate in payload["rates"].items() if name != code}


def _fr_convert(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    source, target = _upper(body, "from"), _upper(body, "to")
    if target == source:
        rate = 1.0
    elif target not in payload["rates"]:
        raise InputRejected(f"no rate for {target}", field="to")
    else:
        rate = payload["rates"][target]
    return {"from": source, "to": target, "amount": _converted(body.get("amount", 1), rate), "rate": rate}


FRANKFURTER = Adapter(
    name="frankfurter",
    title="Frankfurter (European Central Bank rates)",
    base_urls={"default": "https://api.frankfurter.dev/v1"},
    credential_help="No key needed.",
    endpoints={
        "Codes": Mapping(
            request=lambda body: ProviderRequest(path="/currencies"),
            response=lambda payload, body: {
                "codes": [{"name": code, "currency": name} for code, name in sorted(payload.items())]
            },
        ),
        "Rates": Mapping(
            request=lambda body: ProviderRequest(path="/latest", params={"base": _upper(body, "code")}),
            response=lambda payload, body: {"code": payload["base"], "rates": _fr_rates(payload, payload["base"])},
        ),
        "Convert": Mapping(
            request=lambda body: ProviderRequest(
                path="/latest", params={"base": _upper(body, "from"), "symbols": _upper(body, "to")}
            ),
            response=_fr_convert,
        ),
        "History": Mapping(
            request=lambda body: ProviderRequest(path=f"/{body['date']}", params={"base": _upper(body, "code")}),
            response=lambda payload, body: {
                "code": payload["base"],
                "date": body["date"],
                "rates": _fr_rates(payload, payload["base"]),
            },
        ),
    },
)


# --- exchangerate.host: key as access_key; errors come as 200 with success false ----------------

ERH_AUTH_CODES = {101, 102, 103, 105}  # no or invalid key, inactive account, endpoint not in the plan
ERH_QUOTA_CODES = {104}  # monthly request allowance used
ERH_INPUT_MESSAGES = {
    106: "no rates exist for this request",
    201: "the currency code is not supported",
    202: "a currency code is not supported",
    301: "the date is missing",
    302: "the date is not valid or not covered",
    401: "the from currency is not supported",
    402: "the to currency is not supported",
    403: "the amount is not valid",
}


def _erh_inspect(status: int, payload: Any) -> Classified | None:
    if not isinstance(payload, dict) or payload.get("success") is not False:
        return None
    error = payload.get("error") or {}
    code = error.get("code")
    if code in ERH_AUTH_CODES:
        return Classified(Problem.AUTH)
    if code in ERH_QUOTA_CODES:
        return Classified(Problem.QUOTA)
    if code in ERH_INPUT_MESSAGES:
        return Classified(Problem.INPUT, reason=ERH_INPUT_MESSAGES[code])
    return Classified(Problem.PROVIDER, reason=str(error.get("type", "")))


def _erh_quotes(payload: Any) -> dict[str, float]:
    source = payload["source"]
    return {pair[len(source):]: rate for pair, rate in payload["quotes"].items() if pair[len(source):] != source}


EXCHANGERATE_HOST = Adapter(
    name="exchangerate-host",
    title="exchangerate.host",
    base_urls={"default": "https://api.exchangerate.host"},
    auth=Auth(kind="query", name="access_key"),
    credential_help="The access key from your exchangerate.host dashboard.",
    inspect=_erh_inspect,
    endpoints={
        "Codes": Mapping(
            request=lambda body: ProviderRequest(path="/list"),
            response=lambda payload, body: {
                "codes": [{"name": code, "currency": name} for code, name in sorted(payload["currencies"].items())]
            },
        ),
        "Rates": Mapping(
            request=lambda body: ProviderRequest(path="/live", params={"source": _upper(body, "code")}),
            response=lambda payload, body: {"code": payload["source"], "rates": _erh_quotes(payload)},
        ),
        "Convert": Mapping(
            request=lambda body: ProviderRequest(
                path="/convert",
                params={"from": _upper(body, "from"), "to": _upper(body, "to"), "amount": body.get("amount", 1)},
            ),
            response=lambda payload, body: {
                "from": payload["query"]["from"],
                "to": payload["query"]["to"],
                "amount": round(payload["result"], DECIMALS),
                "rate": payload["info"]["quote"],
            },
        ),
        "History": Mapping(
            request=lambda body: ProviderRequest(
                path="/historical", params={"date": body["date"], "source": _upper(body, "code")}
            ),
            response=lambda payload, body: {
                "code": payload["source"], "date": payload["date"], "rates": _erh_quotes(payload)
            },
        ),
    },
)

SERVICE = provider_service_register(
    service=ProviderService(
        slug="currency",
        title="Currency",
        adapters=[FRANKFURTER, EXCHANGERATE_HOST],
        public_data=frozenset({"Codes", "Rates", "Convert", "History"}),
    ),
    spec={
        "name": "Currency",
        "tagline": "Exchange rates, conversions and rate history.",
        "description": (
            "Latest and historical exchange rates between currencies, and conversions at the latest rate. "
            "Rates are given as units of each currency per one unit of the base currency."
        ),
        "category": "Finance",
        "icon": "💱",
    },
    endpoints=ENDPOINTS,
)
