"""crypto: cryptocurrency prices, quotes and daily history, from Coinbase Exchange market data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from catalog.services import EndpointSpec
from services.providers.base import Adapter, InputRejected, Mapping, ProviderRequest, ProviderService, default_reason
from services.providers.dispatch import provider_service_register
from services.providers.schema import number, obj, response, string

SYMBOL = string("Trading pair, such as BTCUSD or BTC-USD.", pattern=r"^[A-Za-z0-9]{2,10}-?[A-Za-z0-9]{2,10}$")
DATE = string("Day in UTC, YYYY-MM-DD. Default yesterday.", pattern=r"^\d{4}-\d{2}-\d{2}$")
# Quote currencies, longest first, so BTCUSDT splits as BTC-USDT and not BTCUSD-T.
QUOTES = ("USDT", "USDC", "USD", "EUR", "GBP", "BTC", "ETH")
DAY_SECONDS = 86_400

ENDPOINTS = [
    EndpointSpec(
        name="Price",
        description="Price of the last trade of a pair.",
        request_schema=obj({"symbol": SYMBOL}, required=["symbol"]),
        response_schema=response({"symbol": string("The pair, such as BTCUSD."), "price": number("Last trade price.")}),
        price_units=1_000,
        examples=[{"title": "Bitcoin in US dollars", "request": {"symbol": "BTCUSD"},
                   "response": {"symbol": "BTCUSD", "price": 97012.55}}],
    ),
    EndpointSpec(
        name="Quote",
        description="Best bid and ask of a pair.",
        request_schema=obj({"symbol": SYMBOL}, required=["symbol"]),
        response_schema=response(
            {"symbol": string("The pair."), "bid_price": number("Best bid."), "ask_price": number("Best ask."),
             "bid_size": number("Amount bid."), "ask_size": number("Amount asked."),
             "timestamp": string("Time in UTC, RFC 3339.")}
        ),
        price_units=1_000,
        examples=[{"title": "Bitcoin quote", "request": {"symbol": "BTCUSD"},
                   "response": {"symbol": "BTCUSD", "bid_price": 97012.5, "ask_price": 97012.6, "bid_size": 0.52,
                                "ask_size": 0.2, "timestamp": "2026-12-04T22:40:00Z"}}],
    ),
    EndpointSpec(
        name="History",
        description="Open, high, low, close and volume of a pair on a day (UTC).",
        request_schema=obj({"symbol": SYMBOL, "date": DATE}, required=["symbol"]),
        response_schema=response(
            {"symbol": string("The pair."), "date": string("The day."), "open": number("Opening price."),
             "close": number("Closing price."), "high": number("Highest price."), "low": number("Lowest price."),
             "volume": number("Amount traded.")}
        ),
        price_units=1_000,
        examples=[{"title": "Bitcoin on 3 December 2026", "request": {"symbol": "BTCUSD", "date": "2026-12-03"},
                   "response": {"symbol": "BTCUSD", "date": "2026-12-03", "open": 95100.0, "close": 96950.25,
                                "high": 97500.0, "low": 94800.5, "volume": 10234.5}}],
    ),
]


def _pair(symbol: str) -> tuple[str, str]:
    symbol = symbol.upper()
    if "-" in symbol:
        base, _, quote_currency = symbol.partition("-")
        return base, quote_currency
    for quote_currency in QUOTES:
        if symbol.endswith(quote_currency) and len(symbol) > len(quote_currency):
            return symbol[: -len(quote_currency)], quote_currency
    raise InputRejected(f"cannot tell the currencies apart in {symbol!r}; write it as BTC-USD", field="symbol")


def _product(body: dict[str, Any]) -> str:
    return "-".join(_pair(body["symbol"]))


def _symbol(body: dict[str, Any]) -> str:
    return "".join(_pair(body["symbol"]))


def _rfc3339(value: str) -> str:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(body: dict[str, Any]) -> str:
    """Return the requested day, or yesterday (UTC): the last day with a closing price."""
    return body.get("date") or (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")


def _history_request(body: dict[str, Any]) -> ProviderRequest:
    try:
        start = datetime.strptime(_day(body), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InputRejected(f"{body['date']!r} is not a date", field="date") from None
    return ProviderRequest(
        path=f"/products/{_product(body)}/candles",
        params={
            "granularity": DAY_SECONDS,
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )


def _history_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    if not payload:
        raise InputRejected(f"no trades of {_symbol(body)} on {_day(body)}", field="date")
    # Each candle is [time, low, high, open, close, volume].
    _time, low, high, opening, closing, volume = payload[0]
    return {"symbol": _symbol(body), "date": _day(body), "open": opening, "close": closing, "high": high,
            "low": low, "volume": volume}


def _reason(payload: Any) -> str:
    reason = default_reason(payload)
    return "no such trading pair" if reason == "NotFound" else reason


COINBASE = Adapter(
    name="coinbase",
    title="Coinbase Exchange market data",
    base_urls={"default": "https://api.exchange.coinbase.com"},
    credential_help="No key needed for market data.",
    reason=_reason,
    endpoints={
        "Price": Mapping(
            request=lambda body: ProviderRequest(path=f"/products/{_product(body)}/ticker"),
            response=lambda payload, body: {"symbol": _symbol(body), "price": float(payload["price"])},
        ),
        "Quote": Mapping(
            request=lambda body: ProviderRequest(path=f"/products/{_product(body)}/book", params={"level": 1}),
            response=lambda payload, body: {
                "symbol": _symbol(body),
                "bid_price": float(payload["bids"][0][0]),
                "ask_price": float(payload["asks"][0][0]),
                "bid_size": float(payload["bids"][0][1]),
                "ask_size": float(payload["asks"][0][1]),
                "timestamp": _rfc3339(payload["time"]),
            },
        ),
        "History": Mapping(request=_history_request, response=_history_response),
    },
)

SERVICE = provider_service_register(
    service=ProviderService(slug="crypto", title="Crypto", adapters=[COINBASE],
                            public_data=frozenset({"Price", "Quote", "History"})),
    spec={
        "name": "Crypto",
        "tagline": "Cryptocurrency prices, quotes and history.",
        "description": "The last price, the best bid and ask, and daily open, high, low and close of crypto pairs.",
        "category": "Finance",
        "icon": "🪙",
    },
    endpoints=ENDPOINTS,
)
