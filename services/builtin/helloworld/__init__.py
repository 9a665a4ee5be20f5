"""helloworld: the smallest service, a greeting; useful to check a key works."""

from __future__ import annotations

from services.builtin.helloworld.handlers import MAX_STREAM_MESSAGES, call, stream
from services.registry import BuiltinEndpoint, BuiltinService, register

SERVICE = register(
    BuiltinService(
        slug="helloworld",
        name="Hello World",
        tagline="Say hello: the first call to make with a new key.",
        description=(
            "Returns a greeting for the name you send. Use it to check that your API key, "
            "your client and your balance work before calling anything else."
        ),
        category="Developer tools",
        icon="👋",
        endpoints=[
            BuiltinEndpoint(
                name="Call",
                handler=call,
                description="Return a personalised greeting.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 200,
                            "description": "The name to greet.",
                        }
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {"message": {"type": "string", "description": "The greeting."}},
                    "required": ["message"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "Greet Alice",
                        "request": {"name": "Alice"},
                        "response": {"message": "Hello Alice"},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Stream",
                streaming=True,
                stream=stream,
                description=(
                    "Stream a greeting the number of times you ask for, then close. The price is charged per "
                    "message sent."
                ),
                request_schema={
                    "type": "object",
                    "properties": {
                        "name": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 200,
                            "description": "The name to greet.",
                        },
                        "messages": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_STREAM_MESSAGES,
                            "default": 10,
                            "description": "How many greetings to send.",
                        },
                    },
                    "required": ["name"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {"message": {"type": "string", "description": "The greeting."}},
                    "required": ["message"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "Greet Alice twice",
                        "request": {"name": "Alice", "messages": 2},
                        "response": {"message": "Hello Alice"},
                    }
                ],
            ),
        ],
    )
)
