"""otp: one-time numeric codes that expire and can be validated once."""

from __future__ import annotations

from services.builtin.otp.handlers import MAX_ATTEMPTS, generate, purge_account, validate
from services.registry import BuiltinEndpoint, BuiltinService, register

USER_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": 256,
    "description": "The id the code is for, such as an email address. Stored only as a SHA-256 hash.",
}

SERVICE = register(
    BuiltinService(
        slug="otp",
        name="OTP",
        tagline="One-time codes for sign-in and verification.",
        description=(
            "Generates a random numeric code for an id (an email address or phone number), which you "
            "send to your user, and validates what they type. A code validates once, only before it "
            f"expires, and is discarded after {MAX_ATTEMPTS} wrong guesses. Generating a new code for "
            "an id replaces the old one. Codes are kept per account."
        ),
        category="Security",
        icon="🔢",
        endpoints=[
            BuiltinEndpoint(
                name="Generate",
                handler=generate,
                description="Generate a code for an id.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "id": USER_ID,
                        "size": {"type": "integer", "minimum": 4, "maximum": 10, "default": 6, "description": "Number of digits."},
                        "expiry": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 86_400,
                            "default": 60,
                            "description": "Seconds until the code expires.",
                        },
                    },
                    "required": ["id"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {"code": {"type": "string", "pattern": "^[0-9]{4,10}$"}},
                    "required": ["code"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "A 6-digit code valid for 5 minutes",
                        "request": {"id": "alice@example.com", "size": 6, "expiry": 300},
                        "response": {"code": "493021"},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Validate",
                handler=validate,
                description="Check a code for an id. A correct code succeeds once and is then used up.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "id": USER_ID,
                        "code": {"type": "string", "minLength": 1, "maxLength": 10, "description": "The code the user typed."},
                    },
                    "required": ["id", "code"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {"success": {"type": "boolean", "description": "Whether the code is correct and unused."}},
                    "required": ["success"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "A wrong code",
                        "request": {"id": "alice@example.com", "code": "000000"},
                        "response": {"success": False},
                    }
                ],
            ),
        ],
        purge_account=purge_account,
    )
)
