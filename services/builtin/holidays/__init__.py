"""holidays: public holidays by country and year, from the holidays package.

The calls go through the provider layer (services/providers/apis/holidays.py):
the holidays package answers unless an operator chooses Nager.Date in admin.
"""

from __future__ import annotations

from services.providers.dispatch import dispatch
from services.registry import BuiltinEndpoint, BuiltinService, register

SERVICE = register(
    BuiltinService(
        slug="holidays",
        name="Holidays",
        tagline="Public holidays for about 250 countries.",
        description=(
            "Lists the public holidays of a country in a year, with English names where the "
            "holidays package has a translation and the names in the country's own language. "
            "The data ships with the holidays package, so no network call is made."
        ),
        category="Data",
        icon="🎉",
        endpoints=[
            BuiltinEndpoint(
                name="Countries",
                handler=dispatch,
                description="List the supported countries and their ISO 3166-1 alpha-2 codes.",
                request_schema={"type": "object", "properties": {}, "additionalProperties": False},
                response_schema={
                    "type": "object",
                    "properties": {
                        "countries": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                                "required": ["code", "name"],
                            },
                        }
                    },
                    "required": ["countries"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "All countries",
                        "request": {},
                        "response": {"countries": [{"code": "AD", "name": "Andorra"}, {"code": "GB", "name": "United Kingdom"}]},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="List",
                handler=dispatch,
                description="List a country's public holidays in a year.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "country_code": {
                            "type": "string",
                            "minLength": 2,
                            "maxLength": 2,
                            "description": "ISO 3166-1 alpha-2 country code, such as GB. Countries lists them.",
                        },
                        "year": {"type": "integer", "minimum": 1900, "maximum": 2100, "description": "Calendar year."},
                    },
                    "required": ["country_code", "year"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {
                        "country_code": {"type": "string"},
                        "year": {"type": "integer"},
                        "holidays": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "date": {"type": "string", "description": "ISO 8601 date."},
                                    "name": {"type": "string", "description": "English name where available."},
                                    "local_name": {"type": "string", "description": "Name in the country's default language."},
                                },
                                "required": ["date", "name", "local_name"],
                            },
                        },
                    },
                    "required": ["country_code", "year", "holidays"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "Holidays in Germany in 2026",
                        "request": {"country_code": "DE", "year": 2026},
                        "response": {
                            "country_code": "DE",
                            "year": 2026,
                            "holidays": [{"date": "2026-01-01", "name": "New Year's Day", "local_name": "Neujahr"}],
                        },
                    }
                ],
            ),
        ],
    )
)
