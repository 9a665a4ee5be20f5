"""The secret service's endpoints, schemas and examples."""

from __future__ import annotations

from services.builtin.schemas import request_object, response_object
from services.builtin.secret import handlers
from services.registry import BuiltinEndpoint, BuiltinService, register

KEY = {"type": "string", "minLength": 1, "maxLength": 512, "description": "The secret's name; any characters."}
KEY_REQUEST = request_object({"key": KEY}, ["key"])
KEY_RESPONSE = response_object({"key": {"type": "string"}})

SERVICE = register(
    BuiltinService(
        slug="secret",
        name="Secret",
        tagline="Store secrets encrypted at rest.",
        description=(
            "Keep API tokens, passwords and other secrets under names of your choice. Values are encrypted "
            "before they are stored and are returned only by Get; List returns names alone."
        ),
        category="Security",
        icon="🔒",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Set",
                handler=handlers.set_secret,
                description="Store a secret under a key, replacing any earlier value.",
                request_schema=request_object(
                    {"key": KEY, "value": {"type": "string", "maxLength": 65_536, "description": "The secret value."}},
                    ["key", "value"],
                ),
                response_schema=KEY_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Store a token",
                        "request": {"key": "github_token", "value": "ghp_example"},
                        "response": {"key": "github_token"},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Get",
                handler=handlers.get_secret,
                description="Read a secret's value.",
                request_schema=KEY_REQUEST,
                response_schema=response_object({"key": {"type": "string"}, "value": {"type": "string"}}),
                price_units=100,
                examples=[
                    {
                        "title": "Read the token",
                        "request": {"key": "github_token"},
                        "response": {"key": "github_token", "value": "ghp_example"},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="List",
                handler=handlers.list_secrets,
                description="List the keys of your secrets, sorted, without values.",
                request_schema=request_object({}, []),
                response_schema=response_object({"keys": {"type": "array", "items": {"type": "string"}}}),
                price_units=100,
                examples=[{"title": "List secrets", "request": {}, "response": {"keys": ["github_token"]}}],
            ),
            BuiltinEndpoint(
                name="Delete",
                handler=handlers.delete_secret,
                description="Delete a secret.",
                request_schema=KEY_REQUEST,
                response_schema=KEY_RESPONSE,
                price_units=100,
                examples=[
                    {"title": "Delete the token", "request": {"key": "github_token"}, "response": {"key": "github_token"}}
                ],
            ),
        ],
    )
)
