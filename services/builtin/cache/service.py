"""The cache service's endpoints, schemas and examples."""

from __future__ import annotations

from services.builtin.cache import handlers
from services.builtin.schemas import request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

KEY = {"type": "string", "minLength": 1, "maxLength": 512, "description": "The key; any characters."}


COUNTER_REQUEST = request_object(
    {
        "key": KEY,
        "value": {
            "type": "integer",
            "minimum": 1,
            "maximum": 2**53,
            "default": 1,
            "description": "How much to change the integer by.",
        },
    },
    ["key"],
)
COUNTER_RESPONSE = response_object({"key": {"type": "string"}, "value": {"type": "integer"}})

SERVICE = register(
    BuiltinService(
        slug="cache",
        name="Cache",
        tagline="Store values under keys, with optional expiry.",
        description=(
            "A key-value store private to your account. Set a value with an optional time to live in "
            "seconds, read it back, keep integer counters with Increment and Decrement, and list your keys."
        ),
        category="Storage",
        icon="⚡",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Set",
                handler=handlers.set_value,
                description="Store a value under a key, replacing any earlier value.",
                request_schema=request_object(
                    {
                        "key": KEY,
                        "value": {"type": "string", "description": "The value to store."},
                        "ttl": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": 31_536_000,
                            "default": 0,
                            "description": "Seconds until the entry expires; 0 keeps it until deleted.",
                        },
                    },
                    ["key", "value"],
                ),
                response_schema=response_object({"key": {"type": "string"}, "ttl": {"type": "integer"}}),
                price_units=100,
                examples=[
                    {
                        "title": "Cache a greeting for an hour",
                        "request": {"key": "greeting", "value": "hello", "ttl": 3600},
                        "response": {"key": "greeting", "ttl": 3600},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Get",
                handler=handlers.get_value,
                description="Read the value under a key, with the seconds it has left (0: no expiry).",
                request_schema=request_object({"key": KEY}, ["key"]),
                response_schema=response_object(
                    {"key": {"type": "string"}, "value": {"type": "string"}, "ttl": {"type": "integer"}}
                ),
                price_units=100,
                examples=[
                    {
                        "title": "Read the greeting",
                        "request": {"key": "greeting"},
                        "response": {"key": "greeting", "value": "hello", "ttl": 3599},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Increment",
                handler=handlers.increment,
                description="Add to the integer under a key; a missing key starts at 0.",
                request_schema=COUNTER_REQUEST,
                response_schema=COUNTER_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Count a page view",
                        "request": {"key": "views", "value": 1},
                        "response": {"key": "views", "value": 1},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Decrement",
                handler=handlers.decrement,
                description="Subtract from the integer under a key; a missing key starts at 0.",
                request_schema=COUNTER_REQUEST,
                response_schema=COUNTER_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Take back a page view",
                        "request": {"key": "views", "value": 1},
                        "response": {"key": "views", "value": 0},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="ListKeys",
                handler=handlers.list_keys,
                description="List the keys that have not expired, sorted, optionally only those with a prefix.",
                request_schema=request_object(
                    {"prefix": {"type": "string", "maxLength": 512, "default": "", "description": "Key prefix."}}, []
                ),
                response_schema=response_object({"keys": {"type": "array", "items": {"type": "string"}}}),
                price_units=100,
                examples=[{"title": "List every key", "request": {}, "response": {"keys": ["greeting", "views"]}}],
            ),
            BuiltinEndpoint(
                name="Delete",
                handler=handlers.delete_value,
                description="Delete the entry under a key.",
                request_schema=request_object({"key": KEY}, ["key"]),
                response_schema=response_object({"key": {"type": "string"}}),
                price_units=100,
                examples=[{"title": "Delete the greeting", "request": {"key": "greeting"}, "response": {"key": "greeting"}}],
            ),
        ],
    )
)
