"""geocoding: addresses to coordinates and back, from Nominatim (OpenStreetMap)."""

from __future__ import annotations

from typing import Any

from catalog.services import EndpointSpec
from services.providers.base import Adapter, Classified, InputRejected, Mapping, Problem, ProviderRequest, ProviderService
from services.providers.dispatch import provider_service_register
from services.providers.schema import number, obj, response, string

TEXT = {"type": "string", "maxLength": 200}
ADDRESS = response(
    {
        "line_one": string("House number and street."),
        "line_two": string("District or neighbourhood; empty when there is none."),
        "city": string("City, town or village."),
        "postcode": string("Postal code."),
        "country": string("Country."),
    }
)
POINT = response({"latitude": number("Latitude in degrees."), "longitude": number("Longitude in degrees.")})
RESULT = response({"address": ADDRESS, "location": POINT})
LATITUDE = number("Latitude in degrees.", minimum=-90, maximum=90)
LONGITUDE = number("Longitude in degrees.", minimum=-180, maximum=180)

EXAMPLE = {
    "address": {"line_one": "10 Downing Street", "line_two": "Westminster", "city": "London",
                "postcode": "SW1A 2AA", "country": "United Kingdom"},
    "location": {"latitude": 51.5033635, "longitude": -0.1276248},
}

ENDPOINTS = [
    EndpointSpec(
        name="Lookup",
        description="Find the coordinates of an address. Send at least one field.",
        request_schema={
            **obj(
                {
                    "address": {**TEXT, "description": "House number and street."},
                    "city": {**TEXT, "description": "City, town or village."},
                    "postcode": {**TEXT, "description": "Postal code."},
                    "country": {**TEXT, "description": "Country name or ISO code."},
                }
            ),
            "minProperties": 1,
        },
        response_schema=RESULT,
        price_units=1_000,
        examples=[{"title": "10 Downing Street", "request": {"address": "10 Downing Street", "city": "London",
                                                              "country": "United Kingdom"}, "response": EXAMPLE}],
    ),
    EndpointSpec(
        name="Reverse",
        description="Find the address nearest to coordinates.",
        request_schema=obj({"latitude": LATITUDE, "longitude": LONGITUDE}, required=["latitude", "longitude"]),
        response_schema=RESULT,
        price_units=1_000,
        examples=[{"title": "What is at 51.50336, -0.12762", "request": {"latitude": 51.50336, "longitude": -0.12762},
                   "response": EXAMPLE}],
    ),
]


def _place(found: dict[str, Any]) -> dict[str, Any]:
    parts = found.get("address", {})
    street = " ".join(part for part in (parts.get("house_number", ""), parts.get("road", "")) if part)
    city = next((parts[name] for name in ("city", "town", "village", "municipality", "county") if parts.get(name)), "")
    return {
        "address": {
            "line_one": street,
            "line_two": parts.get("suburb") or parts.get("neighbourhood") or parts.get("quarter") or "",
            "city": city,
            "postcode": parts.get("postcode", ""),
            "country": parts.get("country", ""),
        },
        "location": {"latitude": float(found["lat"]), "longitude": float(found["lon"])},
    }


def _lookup_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    if not payload:
        raise InputRejected("no place matches this address")
    return _place(payload[0])


def _inspect(status: int, payload: Any) -> Classified | None:
    # Reverse answers 200 {"error": "Unable to geocode"} where nothing is near.
    if status == 200 and isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return Classified(Problem.INPUT, reason="no address is known near these coordinates")
    return None


NOMINATIM = Adapter(
    name="nominatim",
    title="Nominatim (OpenStreetMap)",
    base_urls={"default": "https://nominatim.openstreetmap.org"},
    credential_help="No key needed; mind the public server's usage policy, or point the base URL at your own.",
    inspect=_inspect,
    endpoints={
        "Lookup": Mapping(
            request=lambda body: ProviderRequest(
                path="/search",
                params={
                    "format": "jsonv2", "addressdetails": 1, "limit": 1, "accept-language": "en",
                    "street": body.get("address"), "city": body.get("city"),
                    "postalcode": body.get("postcode"), "country": body.get("country"),
                },
            ),
            response=_lookup_response,
        ),
        "Reverse": Mapping(
            request=lambda body: ProviderRequest(
                path="/reverse",
                params={"format": "jsonv2", "addressdetails": 1, "accept-language": "en",
                        "lat": body["latitude"], "lon": body["longitude"]},
            ),
            response=lambda payload, body: _place(payload),
        ),
    },
)

SERVICE = provider_service_register(
    service=ProviderService(slug="geocoding", title="Geocoding", adapters=[NOMINATIM],
                            public_data=frozenset({"Lookup", "Reverse"})),
    spec={
        "name": "Geocoding",
        "tagline": "Turn addresses into coordinates and coordinates into addresses.",
        "description": "Look up the latitude and longitude of an address, or the address nearest to a point.",
        "category": "Location",
        "icon": "📍",
    },
    endpoints=ENDPOINTS,
)
