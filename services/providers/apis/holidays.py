"""holidays: the built-in holidays service's providers, the holidays library (default) or Nager.Date.

The service itself is declared in services/builtin/holidays; its handlers
dispatch here, so an operator can switch it to Nager.Date in admin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from services.builtin.holidays import handlers
from services.providers.base import Adapter, Mapping, ProviderRequest, ProviderService, default_reason
from services.providers.dispatch import provider_service_add

LIBRARY = Adapter(
    name="library",
    title="holidays library (built in, no network)",
    endpoints={
        "Countries": Mapping(run=lambda context, settings: handlers.countries(context)),
        "List": Mapping(run=lambda context, settings: handlers.list_holidays(context)),
    },
)


def _list_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "country_code": body["country_code"].upper(),
        "year": body["year"],
        "holidays": [
            {"date": item["date"], "name": item["name"], "local_name": item["localName"]}
            for item in sorted(payload, key=lambda item: item["date"])
        ],
    }


NAGER = Adapter(
    name="nager",
    title="Nager.Date",
    base_urls={"default": "https://date.nager.at"},
    credential_help="No key needed.",
    reason=lambda payload: default_reason(payload) or "the country code or year is not supported",
    endpoints={
        "Countries": Mapping(
            request=lambda body: ProviderRequest(path="/api/v3/AvailableCountries"),
            response=lambda payload, body: {
                "countries": sorted(
                    ({"code": item["countryCode"], "name": item["name"]} for item in payload),
                    key=lambda country: country["code"],
                )
            },
        ),
        "List": Mapping(
            request=lambda body: ProviderRequest(
                path=f"/api/v3/PublicHolidays/{int(body['year'])}/{quote(body['country_code'].upper(), safe='')}"
            ),
            response=_list_response,
        ),
    },
)

SERVICE = ProviderService(
    slug="holidays",
    title="Holidays",
    adapters=[LIBRARY, NAGER],
    default_provider="library",
    public_data=frozenset({"Countries", "List"}),
)
provider_service_add(SERVICE)
