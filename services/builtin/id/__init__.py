"""id: unique ids of the common formats (UUID, snowflake, ULID, KSUID and others)."""

from __future__ import annotations

from services.builtin.id.generators import GENERATORS
from services.builtin.id.handlers import generate, types
from services.registry import BuiltinEndpoint, BuiltinService, register

SERVICE = register(
    BuiltinService(
        slug="id",
        name="ID",
        tagline="Generate unique ids: UUID, snowflake, ULID, KSUID and more.",
        description=(
            "Generates unique ids of eight common formats. Ids of 64 bits or more (snowflake and "
            "bigflake) are returned as decimal strings, because JavaScript numbers lose precision "
            "above 2^53."
        ),
        category="Developer tools",
        icon="🆔",
        endpoints=[
            BuiltinEndpoint(
                name="Generate",
                handler=generate,
                description="Generate one id of the requested type.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "type": {
                            "type": "string",
                            "enum": list(GENERATORS),
                            "default": "uuid",
                            "description": "The id format. Types lists them.",
                        }
                    },
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "description": "The id format."},
                        "id": {"type": "string", "description": "The generated id."},
                    },
                    "required": ["type", "id"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "A UUID",
                        "request": {"type": "uuid"},
                        "response": {"type": "uuid", "id": "3f1b5d0c-5a4e-4c1e-9d55-1f0e6a1c2b7d"},
                    },
                    {
                        "title": "A snowflake",
                        "request": {"type": "snowflake"},
                        "response": {"type": "snowflake", "id": "2128961298796781568"},
                    },
                ],
            ),
            BuiltinEndpoint(
                name="Types",
                handler=types,
                description="List the id types that Generate supports.",
                request_schema={"type": "object", "properties": {}, "additionalProperties": False},
                response_schema={
                    "type": "object",
                    "properties": {"types": {"type": "array", "items": {"type": "string"}}},
                    "required": ["types"],
                },
                price_units=1_000,
                examples=[{"title": "All types", "request": {}, "response": {"types": list(GENERATORS)}}],
            ),
        ],
    )
)
