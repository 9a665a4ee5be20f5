"""avatar: default profile pictures drawn from a username."""

from __future__ import annotations

from services.builtin.avatar.handlers import MEDIA_TYPES, generate
from services.registry import BuiltinEndpoint, BuiltinService, register

SERVICE = register(
    BuiltinService(
        slug="avatar",
        name="Avatar",
        tagline="Default avatars drawn from a username.",
        description=(
            "Draws an identicon for a username: a symmetric 5x5 pattern in a colour taken from a "
            "SHA-256 of the name. The same username always gives the same picture, so nothing is stored."
        ),
        category="Media",
        icon="🧑",
        endpoints=[
            BuiltinEndpoint(
                name="Generate",
                handler=generate,
                description="Generate the avatar image for a username.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "username": {"type": "string", "minLength": 1, "maxLength": 256},
                        "format": {"type": "string", "enum": list(MEDIA_TYPES), "default": "png"},
                        "size": {
                            "type": "integer",
                            "minimum": 16,
                            "maximum": 1024,
                            "default": 256,
                            "description": "Width and height in pixels.",
                        },
                    },
                    "required": ["username"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {
                        "avatar": {"type": "string", "contentEncoding": "base64", "description": "The image, base64."},
                        "format": {"type": "string", "enum": list(MEDIA_TYPES)},
                    },
                    "required": ["avatar", "format"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "A PNG avatar",
                        "request": {"username": "alice", "format": "png"},
                        "response": {"avatar": "iVBORw0KGgoAAAANSUhEUgAAAQAAAAEACAIAAADTED8x...", "format": "png"},
                    }
                ],
            )
        ],
    )
)
