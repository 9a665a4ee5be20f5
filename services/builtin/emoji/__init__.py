"""emoji: look up emoji by alias, country flags, and replace :aliases: in text."""

from __future__ import annotations

from services.builtin.emoji.handlers import find, flag, print_text
from services.registry import BuiltinEndpoint, BuiltinService, register

SERVICE = register(
    BuiltinService(
        slug="emoji",
        name="Emoji",
        tagline="Find emoji by alias, get country flags, and emojify text.",
        description=(
            "Looks up emoji by their GitHub or Unicode CLDR alias (thumbsup, smile, red_heart), builds "
            "the flag emoji of a country code, and replaces :aliases: in text. The emoji data ships "
            "with the emoji package."
        ),
        category="Developer tools",
        icon="😀",
        endpoints=[
            BuiltinEndpoint(
                name="Find",
                handler=find,
                description="Find an emoji by its alias.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "alias": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 100,
                            "description": "Alias with or without colons, such as thumbsup or :smile:.",
                        }
                    },
                    "required": ["alias"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {"emoji": {"type": "string"}},
                    "required": ["emoji"],
                },
                price_units=1_000,
                examples=[{"title": "Thumbs up", "request": {"alias": "thumbsup"}, "response": {"emoji": "👍"}}],
            ),
            BuiltinEndpoint(
                name="Flag",
                handler=flag,
                description="Get the flag emoji of a country.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "code": {
                            "type": "string",
                            "minLength": 2,
                            "maxLength": 2,
                            "description": "ISO 3166-1 alpha-2 country code, such as GB.",
                        }
                    },
                    "required": ["code"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {"flag": {"type": "string"}},
                    "required": ["flag"],
                },
                price_units=1_000,
                examples=[{"title": "Flag of Japan", "request": {"code": "JP"}, "response": {"flag": "🇯🇵"}}],
            ),
            BuiltinEndpoint(
                name="Print",
                handler=print_text,
                description="Replace :aliases: in text with emoji. Unknown aliases are left as typed.",
                request_schema={
                    "type": "object",
                    "properties": {"text": {"type": "string", "maxLength": 10_000, "description": "Text with :aliases:."}},
                    "required": ["text"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "Emojify a message",
                        "request": {"text": "let's grab a :beer:"},
                        "response": {"text": "let's grab a 🍺"},
                    }
                ],
            ),
        ],
    )
)
