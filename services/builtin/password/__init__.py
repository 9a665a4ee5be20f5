"""password: strong random passwords from a cryptographic source."""

from __future__ import annotations

from services.builtin.password.handlers import generate
from services.registry import BuiltinEndpoint, BuiltinService, register


def _flag(description: str) -> dict[str, object]:
    return {"type": "boolean", "default": True, "description": description}


SERVICE = register(
    BuiltinService(
        slug="password",
        name="Password",
        tagline="Generate strong random passwords.",
        description=(
            "Generates passwords from the operating system's cryptographic random source. "
            "Choose the length and which character sets to use; the password contains at least "
            "one character of every set you choose."
        ),
        category="Security",
        icon="🔑",
        endpoints=[
            BuiltinEndpoint(
                name="Generate",
                handler=generate,
                description="Generate a random password.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "length": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 256,
                            "default": 16,
                            "description": "Number of characters.",
                        },
                        "lowercase": _flag("Include lower-case letters a-z."),
                        "uppercase": _flag("Include upper-case letters A-Z."),
                        "numbers": _flag("Include digits 0-9."),
                        "special": _flag("Include punctuation such as !@#$%."),
                    },
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {"password": {"type": "string", "description": "The generated password."}},
                    "required": ["password"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "A 16-character password",
                        "request": {"length": 16},
                        "response": {"password": "q7G!vN2#pX9@tL4m"},
                    }
                ],
            )
        ],
    )
)
