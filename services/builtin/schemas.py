"""JSON Schema helpers shared by the built-in data services."""

from __future__ import annotations

from typing import Any

# The largest "offset" a list endpoint takes. A larger one passes no stored row anyway,
# and one past 2**63 - 1 would reach the database as an out-of-range OFFSET.
MAX_OFFSET = 1_000_000_000


def request_object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """Build a request schema that rejects unknown fields."""
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def response_object(properties: dict[str, Any]) -> dict[str, Any]:
    """Build a response schema in which every listed field is present."""
    return {"type": "object", "properties": properties, "required": list(properties)}


def offset_property(things: str) -> dict[str, Any]:
    """Build the ``offset`` field of a list endpoint that pages through ``things``."""
    description = f"{things.capitalize()} to skip."
    return {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "description": description}


def limit_property(description: str, *, default: int = 25, maximum: int = 1000) -> dict[str, Any]:
    """Build the ``limit`` field of a list endpoint."""
    return {"type": "integer", "minimum": 1, "maximum": maximum, "default": default, "description": description}
