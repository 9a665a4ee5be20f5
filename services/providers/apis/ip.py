"""ip: where an IP address is, from ip-api.com."""

from __future__ import annotations

import ipaddress
from typing import Any

from catalog.services import EndpointSpec
from services.providers.base import Adapter, Classified, InputRejected, Mapping, Problem, ProviderRequest, ProviderService
from services.providers.dispatch import provider_service_register
from services.providers.schema import integer, number, obj, response, string

FIELDS = "status,message,continent,country,city,lat,lon,timezone,as,query"
EXAMPLE = {"ip": "8.8.8.8", "city": "Ashburn", "country": "United States", "continent": "North America",
           "latitude": 39.03, "longitude": -77.5, "timezone": "America/New_York", "asn": 15169}

ENDPOINTS = [
    EndpointSpec(
        name="Lookup",
        description="Find the city, country, time zone and network of a public IP address.",
        request_schema=obj({"ip": string("IPv4 or IPv6 address.", minLength=2, maxLength=45)}, required=["ip"]),
        response_schema=response(
            {
                "ip": string("The address looked up."),
                "city": string("City."),
                "country": string("Country."),
                "continent": string("Continent."),
                "latitude": number("Approximate latitude."),
                "longitude": number("Approximate longitude."),
                "timezone": string("IANA time zone."),
                "asn": integer("Autonomous system number of the network; 0 when unknown."),
            }
        ),
        price_units=1_000,
        examples=[{"title": "Look up 8.8.8.8", "request": {"ip": "8.8.8.8"}, "response": EXAMPLE}],
    ),
]


def _request(body: dict[str, Any]) -> ProviderRequest:
    try:
        address = ipaddress.ip_address(body["ip"].strip())
    except ValueError:
        raise InputRejected(f"{body['ip']!r} is not an IPv4 or IPv6 address", field="ip") from None
    if not address.is_global:
        raise InputRejected(f"{address} is a private or reserved address, which has no location", field="ip")
    return ProviderRequest(path=f"/json/{address}", params={"fields": FIELDS})


def _asn(value: str) -> int:
    number = value.split(" ", 1)[0].removeprefix("AS")
    return int(number) if number.isdigit() else 0


def _inspect(status: int, payload: Any) -> Classified | None:
    if status == 200 and isinstance(payload, dict) and payload.get("status") == "fail":
        return Classified(Problem.INPUT, reason=str(payload.get("message", "")))
    return None


IP_API = Adapter(
    name="ip-api",
    title="ip-api.com",
    base_urls={"default": "http://ip-api.com"},
    credential_help="No key for the free endpoint; for the paid one set the base URL to https://pro.ip-api.com.",
    inspect=_inspect,
    endpoints={
        "Lookup": Mapping(
            request=_request,
            response=lambda payload, body: {
                "ip": payload["query"],
                "city": payload["city"],
                "country": payload["country"],
                "continent": payload["continent"],
                "latitude": payload["lat"],
                "longitude": payload["lon"],
                "timezone": payload["timezone"],
                "asn": _asn(payload.get("as", "")),
            },
        )
    },
)

SERVICE = provider_service_register(
    service=ProviderService(slug="ip", title="IP", adapters=[IP_API], public_data=frozenset({"Lookup"})),
    spec={
        "name": "IP",
        "tagline": "Locate an IP address.",
        "description": "The city, country, continent, time zone and network of a public IP address.",
        "category": "Location",
        "icon": "🌐",
    },
    endpoints=ENDPOINTS,
)
