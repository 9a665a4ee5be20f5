"""Responses in each provider's documented shape, for the same underlying data as the catalog examples.

Where two providers serve one service (weather, currency), both describe the
same weather and the same rates, so the service must answer identically.
Keys are (provider, path below the provider's base URL).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
_AAPL_NS = int(datetime(2026, 12, 4, 20, 59, 59, tzinfo=UTC).timestamp()) * 1_000_000_000
_CANDLE_TIME = int(datetime(2026, 12, 3, tzinfo=UTC).timestamp())

_WEATHERAPI_LOCATION = {
    "name": "London", "region": "England", "country": "United Kingdom", "lat": 51.50853, "lon": -0.12574,
    "tz_id": "Europe/London", "localtime_epoch": 1764888300, "localtime": "2026-12-04 22:45",
}
_WEATHERAPI_CURRENT = {
    "last_updated": "2026-12-04 22:45", "temp_c": 7.2, "temp_f": 45.0, "is_day": 0,
    "condition": {"text": "Overcast", "icon": "//cdn.weatherapi.com/weather/64x64/night/122.png", "code": 1009},
    "wind_mph": 9.2, "wind_kph": 14.8, "wind_degree": 250, "wind_dir": "WSW", "pressure_mb": 1012.0,
    "humidity": 81, "cloud": 100, "feelslike_c": 4.1, "feelslike_f": 39.4,
}
_NOMINATIM_PLACE = {
    "place_id": 240109189, "lat": "51.5033635", "lon": "-0.1276248",
    "display_name": "10, Downing Street, Westminster, London, SW1A 2AA, United Kingdom",
    "address": {"house_number": "10", "road": "Downing Street", "suburb": "Westminster", "city": "London",
                "postcode": "SW1A 2AA", "country": "United Kingdom", "country_code": "gb"},
}
_CURRENCIES = {"EUR": "Euro", "GBP": "British Pound", "JPY": "Japanese Yen", "USD": "United States Dollar"}

RECORDED: dict[tuple[str, str], Any] = {
    # Open-Meteo: geocoding, then one forecast body holding the current and the daily blocks.
    ("open-meteo", "/v1/search"): {
        "results": [{"id": 2643743, "name": "London", "latitude": 51.50853, "longitude": -0.12574, "elevation": 25.0,
                     "feature_code": "PPLC", "country_code": "GB", "admin1": "England", "timezone": "Europe/London",
                     "country": "United Kingdom"}],
        "generationtime_ms": 0.7,
    },
    ("open-meteo", "/v1/forecast"): {
        "latitude": 51.5, "longitude": -0.12, "timezone": "Europe/London", "utc_offset_seconds": 0,
        "current": {"time": "2026-12-04T22:45", "interval": 900, "temperature_2m": 7.2, "relative_humidity_2m": 81,
                    "apparent_temperature": 4.1, "is_day": 0, "weather_code": 3, "cloud_cover": 100,
                    "wind_speed_10m": 14.8, "wind_direction_10m": 250},
        "daily": {"time": ["2026-12-04"], "weather_code": [63], "temperature_2m_max": [9.0],
                  "temperature_2m_min": [4.0], "precipitation_probability_max": [80],
                  "sunrise": ["2026-12-04T07:50"], "sunset": ["2026-12-04T15:52"], "wind_speed_10m_max": [22.0]},
    },
    ("weatherapi", "/v1/current.json"): {"location": _WEATHERAPI_LOCATION, "current": _WEATHERAPI_CURRENT},
    ("weatherapi", "/v1/forecast.json"): {
        "location": _WEATHERAPI_LOCATION,
        "current": _WEATHERAPI_CURRENT,
        "forecast": {"forecastday": [{
            "date": "2026-12-04", "date_epoch": 1764806400,
            "day": {"maxtemp_c": 9.0, "maxtemp_f": 48.2, "mintemp_c": 4.0, "mintemp_f": 39.2, "avgtemp_c": 6.5,
                    "avgtemp_f": 43.7, "maxwind_mph": 13.7, "maxwind_kph": 22.0, "daily_will_it_rain": 1,
                    "daily_chance_of_rain": 80, "condition": {"text": "Moderate rain", "code": 1189}},
            "astro": {"sunrise": "07:50 AM", "sunset": "03:52 PM", "moonrise": "06:01 PM"},
        }]},
    },
    ("frankfurter", "/currencies"): _CURRENCIES,
    ("frankfurter", "/latest"): {"amount": 1.0, "base": "USD", "date": "2026-12-04",
                                 "rates": {"EUR": 0.8612, "GBP": 0.7514, "JPY": 155.12}},
    ("frankfurter", "/2026-01-02"): {"amount": 1.0, "base": "USD", "date": "2026-01-02",
                                     "rates": {"EUR": 0.8523, "GBP": 0.7431, "JPY": 157.2}},
    ("exchangerate-host", "/list"): {"success": True, "currencies": _CURRENCIES},
    ("exchangerate-host", "/live"): {"success": True, "timestamp": 1764888000, "source": "USD",
                                     "quotes": {"USDEUR": 0.8612, "USDGBP": 0.7514, "USDJPY": 155.12}},
    ("exchangerate-host", "/convert"): {"success": True, "query": {"from": "USD", "to": "EUR", "amount": 10},
                                        "info": {"timestamp": 1764888000, "quote": 0.8612}, "result": 8.612},
    ("exchangerate-host", "/historical"): {"success": True, "historical": True, "date": "2026-01-02",
                                           "timestamp": 1767398399, "source": "USD",
                                           "quotes": {"USDEUR": 0.8523, "USDGBP": 0.7431, "USDJPY": 157.2}},
    ("nominatim", "/search"): [_NOMINATIM_PLACE],
    ("nominatim", "/reverse"): _NOMINATIM_PLACE,
    ("ip-api", "/json/8.8.8.8"): {"status": "success", "continent": "North America", "country": "United States",
                                  "city": "Ashburn", "lat": 39.03, "lon": -77.5, "timezone": "America/New_York",
                                  "as": "AS15169 Google LLC", "query": "8.8.8.8"},
    ("nager", "/api/v3/AvailableCountries"): [{"countryCode": "GB", "name": "United Kingdom"},
                                               {"countryCode": "AD", "name": "Andorra"}],
    ("nager", "/api/v3/PublicHolidays/2026/DE"): [
        {"date": "2026-01-01", "localName": "Neujahr", "name": "New Year's Day", "countryCode": "DE", "fixed": False,
         "global": True, "counties": None, "launchYear": 1967, "types": ["Public"]},
    ],
    ("thenewsapi", "/v1/news/top"): {
        "meta": {"found": 1, "returned": 1, "limit": 3, "page": 1},
        "data": [{"uuid": "4a1b6c2e-6f0a-4a1e-9d7c-1f0e2b3c4d5e", "title": "Markets rise after rate decision",
                  "description": "Stocks gained after the central bank held rates.", "keywords": "markets, rates",
                  "snippet": "Stocks gained on Thursday...", "url": "https://news.example.com/markets",
                  "image_url": "https://news.example.com/markets.jpg", "language": "en",
                  "published_at": "2026-12-04T10:00:00.000000Z", "source": "news.example.com",
                  "categories": ["business"], "relevance_score": None, "locale": "us"}],
    },
    ("deepl", "/v2/translate"): {"translations": [{"detected_source_language": "EN", "text": "Hallo Welt"}]},
    ("twilio", f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"): {
        "sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": "+447700900123", "from": "Example",
        "body": "Your code is 123456", "account_sid": TWILIO_SID, "num_segments": "1", "error_code": None,
    },
    ("postmark", "/email"): {"To": "alice@example.com", "SubmittedAt": "2026-12-04T22:45:00Z",
                             "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817", "ErrorCode": 0, "Message": "OK"},
    ("polygon", "/v2/last/trade/AAPL"): {"request_id": "f05562305bd26ced64b98ed68b3c5d96", "status": "OK",
                                         "results": {"T": "AAPL", "p": 237.12, "s": 100, "t": _AAPL_NS, "x": 4}},
    ("polygon", "/v2/last/nbbo/AAPL"): {"request_id": "b84e24636301f19f88e0dfbf9a45ed5c", "status": "OK",
                                        "results": {"T": "AAPL", "P": 237.15, "S": 3, "p": 237.1, "s": 2,
                                                    "t": _AAPL_NS}},
    ("polygon", "/v1/open-close/AAPL/2026-12-03"): {"status": "OK", "from": "2026-12-03", "symbol": "AAPL",
                                                    "open": 235.0, "high": 238.2, "low": 234.1, "close": 236.8,
                                                    "volume": 51234567.0, "afterHours": 236.9, "preMarket": 234.8},
    ("coinbase", "/products/BTC-USD/ticker"): {"ask": "97012.6", "bid": "97012.5", "volume": "10234.5",
                                               "trade_id": 123, "price": "97012.55", "size": "0.01",
                                               "time": "2026-12-04T22:40:00.123456Z"},
    ("coinbase", "/products/BTC-USD/book"): {"bids": [["97012.5", "0.52", 3]], "asks": [["97012.6", "0.2", 1]],
                                             "sequence": 1, "auction_mode": False, "auction": None,
                                             "time": "2026-12-04T22:40:00.123456Z"},
    ("coinbase", "/products/BTC-USD/candles"): [[_CANDLE_TIME, 94800.5, 97500.0, 95100.0, 96950.25, 10234.5]],
    ("osrm", "/route/v1/driving/-0.1276,51.5033;-0.1246,51.5007"): {
        "code": "Ok",
        "routes": [{"distance": 360.43, "duration": 78.2, "weight": 78.2,
                    "geometry": {"type": "LineString",
                                 "coordinates": [[-0.1276, 51.5033], [-0.1262, 51.5031], [-0.1246, 51.5007]]},
                    "legs": [{"steps": [
            {"distance": 120.4, "duration": 30.2, "name": "Downing Street",
             "maneuver": {"type": "depart", "location": [-0.1276, 51.5033], "bearing_after": 90}},
            {"distance": 240.0, "duration": 48.0, "name": "Whitehall",
             "maneuver": {"type": "turn", "modifier": "right", "location": [-0.1262, 51.5031]}},
            {"distance": 0.0, "duration": 0.0, "name": "Bridge Street",
             "maneuver": {"type": "arrive", "location": [-0.1246, 51.5007]}},
        ]}]}],
        "waypoints": [{"name": "Downing Street", "location": [-0.1276, 51.5033]},
                      {"name": "Bridge Street", "location": [-0.1246, 51.5007]}],
    },
}
