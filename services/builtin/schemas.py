"""JSON Schema helpers shared by the built-in data services."""

from __future__ import annotations

from typing import Any


def request_object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """Build a request schema that rejects unknown fields."""
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def response_object(properties: dict[str, Any]) -> dict[str, Any]:
    """Build a response schema in which every listed field is present."""
    return {"type": "object", "properties": properties, "required": list(properties)}
