"""The holidays service through the gateway."""

from __future__ import annotations

import pytest

from tests.conftest import Persona


def list_holidays(persona: Persona, **body: object) -> dict:
    response = persona.call("holidays", "List", body=body)
    assert response.status_code == 200, response.content
    return response.json()


def test_countries_include_known_codes(owner: Persona) -> None:
    response = owner.call("holidays", "Countries", body={})
    countries = {entry["code"]: entry["name"] for entry in response.json()["countries"]}

    assert response.status_code == 200
    assert countries["GB"] == "United Kingdom"
    assert countries["US"] == "United States"
    assert countries["BA"] == "Bosnia and Herzegovina"
    assert len(countries) > 150


def test_list_us_2026_has_known_dates(owner: Persona) -> None:
    body = list_holidays(owner, country_code="US", year=2026)
    by_date = {holiday["date"]: holiday["name"] for holiday in body["holidays"]}

    assert body["country_code"] == "US"
    assert body["year"] == 2026
    assert by_date["2026-01-01"] == "New Year's Day"
    assert by_date["2026-07-04"] == "Independence Day"
    assert by_date["2026-11-26"] == "Thanksgiving Day"
    assert by_date["2026-12-25"] == "Christmas Day"
    assert [holiday["date"] for holiday in body["holidays"]] == sorted(by_date)


def test_list_germany_has_english_and_local_names(owner: Persona) -> None:
    body = list_holidays(owner, country_code="de", year=2026)
    good_friday = next(holiday for holiday in body["holidays"] if holiday["date"] == "2026-04-03")

    assert body["country_code"] == "DE"
    assert good_friday == {"date": "2026-04-03", "name": "Good Friday", "local_name": "Karfreitag"}


@pytest.mark.parametrize("year", [1900, 2100])
def test_list_accepts_year_limits(owner: Persona, year: int) -> None:
    body = list_holidays(owner, country_code="GB", year=year)

    assert all(holiday["date"].startswith(str(year)) for holiday in body["holidays"])


@pytest.mark.parametrize(
    ("body", "error_id"),
    [
        ({"country_code": "XX", "year": 2026}, "holidays.unknown_country"),
        ({"country_code": "GBR", "year": 2026}, "v1.invalid_request"),
        ({"country_code": "", "year": 2026}, "v1.invalid_request"),
        ({"country_code": "GB", "year": 1899}, "v1.invalid_request"),
        ({"country_code": "GB", "year": 2101}, "v1.invalid_request"),
        ({"country_code": "GB"}, "v1.invalid_request"),
        ({"year": 2026}, "v1.invalid_request"),
    ],
)
def test_invalid_list_is_400_and_free(owner: Persona, body: dict, error_id: str) -> None:
    before = owner.balance
    response = owner.call("holidays", "List", body=body)

    assert response.status_code == 400
    assert response.json()["id"] == error_id
    assert owner.balance == before
