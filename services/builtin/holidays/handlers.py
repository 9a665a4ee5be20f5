from __future__ import annotations

import functools
from typing import Any

import holidays
from holidays import registry

from services.kit import BadRequest, CallContext

ENGLISH = "en_US"
SMALL_WORDS = {"And", "Of", "The"}


def _display_name(module_name: str) -> str:
    """Turn a holidays module name (``bosnia_and_herzegovina``) into ``Bosnia and Herzegovina``."""
    words = [word.capitalize() for word in module_name.split("_")]
    return " ".join(word.lower() if index and word in SMALL_WORDS else word for index, word in enumerate(words))


@functools.cache
def _countries() -> dict[str, str]:
    """Map ISO 3166-1 alpha-2 codes to country names, for every country the holidays package covers."""
    by_code = {entry[1]: _display_name(module_name) for module_name, entry in registry.COUNTRIES.items()}
    return dict(sorted(by_code.items()))


def countries(context: CallContext) -> dict[str, Any]:
    return {"countries": [{"code": code, "name": name} for code, name in _countries().items()]}


def list_holidays(context: CallContext) -> dict[str, Any]:
    code = context.body["country_code"].upper()
    year = context.body["year"]
    if code not in _countries():
        raise BadRequest(
            f"Unknown country code {code!r}. Use an ISO 3166-1 alpha-2 code that Countries lists, such as GB.",
            error_id="holidays.unknown_country",
            fields={"country_code": "Not a supported country code."},
        )

    local = holidays.country_holidays(code, years=year)
    english = local
    if ENGLISH in local.supported_languages and local.default_language != ENGLISH:
        english = holidays.country_holidays(code, years=year, language=ENGLISH)

    return {
        "country_code": code,
        "year": year,
        "holidays": [
            {"date": day.isoformat(), "name": english.get(day, name), "local_name": name}
            for day, name in sorted(local.items())
        ],
    }
