"""Small builders for the JSON Schemas of provider-backed endpoints, and unit conversions they share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

COMPASS = ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"]


def obj(properties: dict[str, Any], *, required: list[str] | None = None, closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required or []}
    if closed:
        schema["additionalProperties"] = False
    return schema


def response(properties: dict[str, Any]) -> dict[str, Any]:
    """A response object: every field is always present."""
    return {"type": "object", "properties": properties, "required": list(properties)}


def string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def number(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "number", "description": description, **extra}


def integer(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "integer", "description": description, **extra}


def boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def array(items: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "items": items, "description": description}


def c_to_f(celsius: float) -> float:
    return round(celsius * 9 / 5 + 32, 1)


def kph_to_mph(kph: float) -> float:
    return round(kph / 1.609344, 1)


def compass(degrees: float) -> str:
    return COMPASS[round(degrees / 22.5) % 16]


def hhmm(value: str) -> str:
    """Normalise "2026-12-04T07:50", "07:50 AM" or "15:52" to 24-hour "HH:MM"."""
    value = value.strip()
    if "T" in value:
        return value.split("T", 1)[1][:5]
    if value.endswith(("AM", "PM")):
        return datetime.strptime(value, "%I:%M %p").strftime("%H:%M")
    return value[:5]


def local_time(value: str) -> str:
    """Normalise "2026-12-04T22:45" or "2026-12-04 22:45" to "2026-12-04 22:45"."""
    return value.replace("T", " ")[:16]
