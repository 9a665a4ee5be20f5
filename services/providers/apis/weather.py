"""weather: current conditions and daily forecasts for a place, from Open-Meteo or WeatherAPI.com."""

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
    default_reason,
)
from services.providers.dispatch import provider_service_register
from services.providers.schema import (
    array,
    boolean,
    c_to_f,
    compass,
    hhmm,
    integer,
    kph_to_mph,
    local_time,
    number,
    obj,
    response,
    string,
)

# WMO weather interpretation codes, as Open-Meteo reports them.
WMO_CONDITIONS = {
    0: "Clear", 1: "Mainly clear", 2: "Partly cloudy", 3: "Overcast", 45: "Fog", 48: "Freezing fog",
    51: "Light drizzle", 53: "Drizzle", 55: "Heavy drizzle", 56: "Light freezing drizzle", 57: "Freezing drizzle",
    61: "Light rain", 63: "Moderate rain", 65: "Heavy rain", 66: "Light freezing rain", 67: "Freezing rain",
    71: "Light snow", 73: "Moderate snow", 75: "Heavy snow", 77: "Snow grains", 80: "Light rain shower",
    81: "Moderate rain shower", 82: "Torrential rain shower", 85: "Light snow showers", 86: "Heavy snow showers",
    95: "Thunderstorm", 96: "Thunderstorm with light hail", 99: "Thunderstorm with heavy hail",
}
# Open-Meteo has no "will it rain" flag; WeatherAPI.com sets its own from the same chance.
RAIN_LIKELY_PERCENT = 50

LOCATION = string("A place name such as London or Paris, France.", minLength=1, maxLength=200)
PLACE = {
    "location": string("Name of the place found."),
    "region": string("Region, state or province."),
    "country": string("Country."),
    "latitude": number("Latitude in degrees."),
    "longitude": number("Longitude in degrees."),
    "timezone": string("IANA time zone, such as Europe/London."),
    "local_time": string("Local date and time, YYYY-MM-DD HH:MM."),
}
NOW_FIELDS = {
    **PLACE,
    "temp_c": number("Temperature in °C."),
    "temp_f": number("Temperature in °F."),
    "feels_like_c": number("Felt temperature in °C."),
    "feels_like_f": number("Felt temperature in °F."),
    "humidity": integer("Relative humidity in percent."),
    "cloud": integer("Cloud cover in percent."),
    "daytime": boolean("Whether it is daytime."),
    "condition": string("Weather condition, such as Partly cloudy."),
    "wind_kph": number("Wind speed in km/h."),
    "wind_mph": number("Wind speed in mph."),
    "wind_degree": integer("Wind direction in degrees."),
    "wind_direction": string("Wind direction as a 16-point compass, such as WSW."),
}
DAY_FIELDS = {
    "date": string("Date, YYYY-MM-DD."),
    "max_temp_c": number("Highest temperature in °C."),
    "max_temp_f": number("Highest temperature in °F."),
    "min_temp_c": number("Lowest temperature in °C."),
    "min_temp_f": number("Lowest temperature in °F."),
    "avg_temp_c": number("Average temperature in °C."),
    "avg_temp_f": number("Average temperature in °F."),
    "will_it_rain": boolean("Whether rain is likely."),
    "chance_of_rain": integer("Chance of rain in percent."),
    "condition": string("Weather condition."),
    "sunrise": string("Local time of sunrise, HH:MM."),
    "sunset": string("Local time of sunset, HH:MM."),
    "max_wind_kph": number("Highest wind speed in km/h."),
    "max_wind_mph": number("Highest wind speed in mph."),
}

NOW_EXAMPLE = {
    "location": "London", "region": "England", "country": "United Kingdom", "latitude": 51.50853,
    "longitude": -0.12574, "timezone": "Europe/London", "local_time": "2026-12-04 22:45", "temp_c": 7.2,
    "temp_f": 45.0, "feels_like_c": 4.1, "feels_like_f": 39.4, "humidity": 81, "cloud": 100, "daytime": False,
    "condition": "Overcast", "wind_kph": 14.8, "wind_mph": 9.2, "wind_degree": 250, "wind_direction": "WSW",
}
FORECAST_EXAMPLE = {
    **{name: NOW_EXAMPLE[name] for name in PLACE},
    "forecast": [
        {
            "date": "2026-12-04", "max_temp_c": 9.0, "max_temp_f": 48.2, "min_temp_c": 4.0, "min_temp_f": 39.2,
            "avg_temp_c": 6.5, "avg_temp_f": 43.7, "will_it_rain": True, "chance_of_rain": 80,
            "condition": "Moderate rain", "sunrise": "07:50", "sunset": "15:52", "max_wind_kph": 22.0,
            "max_wind_mph": 13.7,
        }
    ],
}

ENDPOINTS = [
    EndpointSpec(
        name="Now",
        description="Current weather at a place.",
        request_schema=obj({"location": LOCATION}, required=["location"]),
        response_schema=response(NOW_FIELDS),
        price_units=1_000,
        examples=[{"title": "Weather in London now", "request": {"location": "London"}, "response": NOW_EXAMPLE}],
    ),
    EndpointSpec(
        name="Forecast",
        description="Daily forecast for a place, from today, for up to 10 days.",
        request_schema=obj(
            {"location": LOCATION, "days": integer("Number of days, 1 to 10. Default 1.", minimum=1, maximum=10)},
            required=["location"],
        ),
        response_schema=response({**PLACE, "forecast": array(response(DAY_FIELDS), "One entry per day.")}),
        price_units=1_000,
        examples=[
            {
                "title": "Today's forecast for London",
                "request": {"location": "London", "days": 1},
                "response": FORECAST_EXAMPLE,
            }
        ],
    ),
]


# --- Open-Meteo: free, no key; a place name is geocoded first --------------------------------------

def _om_geocode_request(body: dict[str, Any]) -> ProviderRequest:
    return ProviderRequest(
        host="geocoding", path="/v1/search", params={"name": body["location"], "count": 1, "language": "en"}
    )


def _om_geocode_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    results = payload.get("results") or []
    if not results:
        raise InputRejected(f"no place matches {body['location']!r}", field="location")
    place = results[0]
    return {
        "_place": {
            "location": place["name"],
            "region": place.get("admin1", ""),
            "country": place.get("country", ""),
            "latitude": place["latitude"],
            "longitude": place["longitude"],
            "timezone": place["timezone"],
        }
    }


OM_GEOCODE = Mapping(request=_om_geocode_request, response=_om_geocode_response)
OM_CURRENT = "temperature_2m,relative_humidity_2m,apparent_temperature,is_day,weather_code,cloud_cover," \
    "wind_speed_10m,wind_direction_10m"
OM_DAILY = "weather_code,temperature_2m_max,temperature_2m_min,precipitation_probability_max,sunrise,sunset," \
    "wind_speed_10m_max"


def _om_forecast_request(body: dict[str, Any], **params: Any) -> ProviderRequest:
    place = body["_place"]
    return ProviderRequest(
        path="/v1/forecast",
        params={
            "latitude": place["latitude"],
            "longitude": place["longitude"],
            "timezone": place["timezone"],
            "wind_speed_unit": "kmh",
            **params,
        },
    )


def _om_place(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    return {**body["_place"], "local_time": local_time(payload["current"]["time"])}


def _om_now_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    current = payload["current"]
    wind_kph = float(current["wind_speed_10m"])
    return {
        **_om_place(payload, body),
        "temp_c": current["temperature_2m"],
        "temp_f": c_to_f(current["temperature_2m"]),
        "feels_like_c": current["apparent_temperature"],
        "feels_like_f": c_to_f(current["apparent_temperature"]),
        "humidity": int(current["relative_humidity_2m"]),
        "cloud": int(current["cloud_cover"]),
        "daytime": bool(current["is_day"]),
        "condition": WMO_CONDITIONS.get(current["weather_code"], "Unknown"),
        "wind_kph": wind_kph,
        "wind_mph": kph_to_mph(wind_kph),
        "wind_degree": int(current["wind_direction_10m"]),
        "wind_direction": compass(current["wind_direction_10m"]),
    }


def _om_forecast_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    daily = payload["daily"]
    days = []
    for index, date in enumerate(daily["time"]):
        high, low = daily["temperature_2m_max"][index], daily["temperature_2m_min"][index]
        average = round((high + low) / 2, 1)
        chance = int(daily["precipitation_probability_max"][index] or 0)
        wind = float(daily["wind_speed_10m_max"][index])
        days.append(
            {
                "date": date,
                "max_temp_c": high,
                "max_temp_f": c_to_f(high),
                "min_temp_c": low,
                "min_temp_f": c_to_f(low),
                "avg_temp_c": average,
                "avg_temp_f": c_to_f(average),
                "will_it_rain": chance >= RAIN_LIKELY_PERCENT,
                "chance_of_rain": chance,
                "condition": WMO_CONDITIONS.get(daily["weather_code"][index], "Unknown"),
                "sunrise": hhmm(daily["sunrise"][index]),
                "sunset": hhmm(daily["sunset"][index]),
                "max_wind_kph": wind,
                "max_wind_mph": kph_to_mph(wind),
            }
        )
    return {**_om_place(payload, body), "forecast": days}


OPEN_METEO = Adapter(
    name="open-meteo",
    title="Open-Meteo",
    base_urls={"default": "https://api.open-meteo.com", "geocoding": "https://geocoding-api.open-meteo.com"},
    credential_help="No key needed for non-commercial use.",
    endpoints={
        "Now": Mapping(
            before=OM_GEOCODE,
            request=lambda body: _om_forecast_request(body, current=OM_CURRENT),
            response=_om_now_response,
        ),
        "Forecast": Mapping(
            before=OM_GEOCODE,
            request=lambda body: _om_forecast_request(
                body, current="is_day", daily=OM_DAILY, forecast_days=body.get("days", 1)
            ),
            response=_om_forecast_response,
        ),
    },
)


# --- WeatherAPI.com: key in the query string ----------------------------------------------------

def _wa_inspect(status: int, payload: Any) -> Classified | None:
    code = payload.get("error", {}).get("code") if isinstance(payload, dict) and isinstance(
        payload.get("error"), dict) else None
    if code == 2007:  # monthly quota exceeded
        return Classified(Problem.QUOTA)
    if code in (1002, 2006, 2008, 2009):  # key missing, invalid, disabled or without access
        return Classified(Problem.AUTH)
    return None


def _wa_place(payload: Any) -> dict[str, Any]:
    place = payload["location"]
    return {
        "location": place["name"],
        "region": place["region"],
        "country": place["country"],
        "latitude": place["lat"],
        "longitude": place["lon"],
        "timezone": place["tz_id"],
        "local_time": local_time(place["localtime"]),
    }


def _wa_now_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    current = payload["current"]
    return {
        **_wa_place(payload),
        "temp_c": current["temp_c"],
        "temp_f": current["temp_f"],
        "feels_like_c": current["feelslike_c"],
        "feels_like_f": current["feelslike_f"],
        "humidity": int(current["humidity"]),
        "cloud": int(current["cloud"]),
        "daytime": bool(current["is_day"]),
        "condition": current["condition"]["text"],
        "wind_kph": current["wind_kph"],
        "wind_mph": current["wind_mph"],
        "wind_degree": int(current["wind_degree"]),
        "wind_direction": current["wind_dir"],
    }


def _wa_forecast_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    days = []
    for entry in payload["forecast"]["forecastday"]:
        day, astro = entry["day"], entry["astro"]
        days.append(
            {
                "date": entry["date"],
                "max_temp_c": day["maxtemp_c"],
                "max_temp_f": day["maxtemp_f"],
                "min_temp_c": day["mintemp_c"],
                "min_temp_f": day["mintemp_f"],
                "avg_temp_c": day["avgtemp_c"],
                "avg_temp_f": day["avgtemp_f"],
                "will_it_rain": bool(day["daily_will_it_rain"]),
                "chance_of_rain": int(day["daily_chance_of_rain"]),
                "condition": day["condition"]["text"],
                "sunrise": hhmm(astro["sunrise"]),
                "sunset": hhmm(astro["sunset"]),
                "max_wind_kph": day["maxwind_kph"],
                "max_wind_mph": day["maxwind_mph"],
            }
        )
    return {**_wa_place(payload), "forecast": days}


WEATHERAPI = Adapter(
    name="weatherapi",
    title="WeatherAPI.com",
    base_urls={"default": "https://api.weatherapi.com"},
    auth=Auth(kind="query", name="key"),
    credential_help="The API key from your WeatherAPI.com account.",
    inspect=_wa_inspect,
    reason=default_reason,
    endpoints={
        "Now": Mapping(
            request=lambda body: ProviderRequest(path="/v1/current.json", params={"q": body["location"]}),
            response=_wa_now_response,
        ),
        "Forecast": Mapping(
            request=lambda body: ProviderRequest(
                path="/v1/forecast.json", params={"q": body["location"], "days": body.get("days", 1)}
            ),
            response=_wa_forecast_response,
        ),
    },
)

SERVICE = provider_service_register(
    service=ProviderService(
        slug="weather",
        title="Weather",
        adapters=[OPEN_METEO, WEATHERAPI],
        public_data=frozenset({"Now", "Forecast"}),
    ),
    spec={
        "name": "Weather",
        "tagline": "Current weather and forecasts for any place.",
        "description": (
            "Current conditions and daily forecasts for a place, by name. Temperatures come in °C and °F and "
            "wind in km/h and mph, the same fields whichever data provider the operator chose."
        ),
        "category": "Location",
        "icon": "🌦️",
    },
    endpoints=ENDPOINTS,
)
