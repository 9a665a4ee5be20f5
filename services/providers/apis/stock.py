"""stock: last trade, quote and daily prices of US stocks, from Polygon.io."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from catalog.services import EndpointSpec
from services.providers.base import Adapter, Auth, Mapping, ProviderRequest, ProviderService
from services.providers.dispatch import provider_service_register
from services.providers.schema import integer, number, obj, response, string

SYMBOL = string("Ticker symbol, such as AAPL.", pattern=r"^[A-Za-z0-9.\-]{1,12}$")
DATE = string("Trading day, YYYY-MM-DD.", pattern=r"^\d{4}-\d{2}-\d{2}$")
TIMESTAMP = string("Time in UTC, RFC 3339.")

ENDPOINTS = [
    EndpointSpec(
        name="Now",
        description="Price of the last trade of a stock.",
        request_schema=obj({"stock": SYMBOL}, required=["stock"]),
        response_schema=response({"symbol": string("Ticker."), "price": number("Price in USD."), "timestamp": TIMESTAMP}),
        price_units=2_000,
        examples=[{"title": "Apple's last trade", "request": {"stock": "AAPL"},
                   "response": {"symbol": "AAPL", "price": 237.12, "timestamp": "2026-12-04T20:59:59Z"}}],
    ),
    EndpointSpec(
        name="Quote",
        description="Best bid and ask of a stock.",
        request_schema=obj({"symbol": SYMBOL}, required=["symbol"]),
        response_schema=response(
            {"symbol": string("Ticker."), "bid_price": number("Best bid in USD."), "ask_price": number("Best ask in USD."),
             "bid_size": integer("Shares bid."), "ask_size": integer("Shares asked."), "timestamp": TIMESTAMP}
        ),
        price_units=2_000,
        examples=[{"title": "Apple's quote", "request": {"symbol": "AAPL"},
                   "response": {"symbol": "AAPL", "bid_price": 237.1, "ask_price": 237.15, "bid_size": 2,
                                "ask_size": 3, "timestamp": "2026-12-04T20:59:59Z"}}],
    ),
    EndpointSpec(
        name="History",
        description="Open, high, low, close and volume of a stock on a trading day.",
        request_schema=obj({"stock": SYMBOL, "date": DATE}, required=["stock", "date"]),
        response_schema=response(
            {"symbol": string("Ticker."), "date": string("Trading day."), "open": number("Opening price."),
             "close": number("Closing price."), "high": number("Highest price."), "low": number("Lowest price."),
             "volume": integer("Shares traded.")}
        ),
        price_units=2_000,
        examples=[{"title": "Apple on 3 December 2026", "request": {"stock": "AAPL", "date": "2026-12-03"},
                   "response": {"symbol": "AAPL", "date": "2026-12-03", "open": 235.0, "close": 236.8,
                                "high": 238.2, "low": 234.1, "volume": 51234567}}],
    ),
]


def _ticker(body: dict[str, Any], name: str) -> str:
    return quote(str(body[name]).upper(), safe="")


def _from_nanoseconds(value: int) -> str:
    return datetime.fromtimestamp(value // 1_000_000_000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


POLYGON = Adapter(
    name="polygon",
    title="Polygon.io",
    base_urls={"default": "https://api.polygon.io"},
    auth=Auth(kind="header", name="Authorization", prefix="Bearer "),
    credential_help="The API key from your Polygon.io dashboard (a plan with last trade and quote data).",
    endpoints={
        "Now": Mapping(
            request=lambda body: ProviderRequest(path=f"/v2/last/trade/{_ticker(body, 'stock')}"),
            response=lambda payload, body: {
                "symbol": payload["results"]["T"],
                "price": payload["results"]["p"],
                "timestamp": _from_nanoseconds(payload["results"]["t"]),
            },
        ),
        "Quote": Mapping(
            request=lambda body: ProviderRequest(path=f"/v2/last/nbbo/{_ticker(body, 'symbol')}"),
            response=lambda payload, body: {
                "symbol": payload["results"]["T"],
                "bid_price": payload["results"]["p"],
                "ask_price": payload["results"]["P"],
                "bid_size": int(payload["results"]["s"]),
                "ask_size": int(payload["results"]["S"]),
                "timestamp": _from_nanoseconds(payload["results"]["t"]),
            },
        ),
        "History": Mapping(
            request=lambda body: ProviderRequest(
                path=f"/v1/open-close/{_ticker(body, 'stock')}/{body['date']}", params={"adjusted": "true"}
            ),
            response=lambda payload, body: {
                "symbol": payload["symbol"],
                "date": payload["from"],
                "open": payload["open"],
                "close": payload["close"],
                "high": payload["high"],
                "low": payload["low"],
                "volume": int(payload["volume"]),
            },
        ),
    },
)

SERVICE = provider_service_register(
    service=ProviderService(slug="stock", title="Stock", adapters=[POLYGON],
                            public_data=frozenset({"Now", "Quote", "History"})),
    spec={
        "name": "Stock",
        "tagline": "Live and historical US stock prices.",
        "description": "The last trade, the best bid and ask, and the daily open, high, low and close of US stocks.",
        "category": "Finance",
        "icon": "📈",
    },
    endpoints=ENDPOINTS,
)
