"""The stream service's endpoints, schemas and examples, following M3O's Stream API."""

from __future__ import annotations

from services.builtin.schemas import limit_property, request_object, response_object
from services.builtin.stream import handlers
from services.registry import BuiltinEndpoint, BuiltinService, register

CHANNEL_NAME = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_.-]{1,128}$",
    "description": "The channel's name: 1 to 128 letters, digits, '_', '.' or '-'. Channels belong to your account.",
}
DESCRIPTION = {"type": "string", "maxLength": 1000, "description": "The channel's purpose."}
TEXT = {"type": "string", "minLength": 1, "maxLength": 10_000, "description": "The message's text."}
CHANNEL = response_object(
    {"name": {"type": "string"}, "description": {"type": "string"}, "created": {"type": "string", "format": "date-time"}}
)
MESSAGE = response_object(
    {
        "id": {"type": "string"},
        "channel": {"type": "string"},
        "text": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
    }
)
EXAMPLE_CHANNEL = {"name": "general", "description": "Anything goes", "created": "2026-01-01T12:00:00+00:00"}
EXAMPLE_MESSAGE = {
    "id": "0b4c4f4e-7d8a-4a59-9d43-3c1e8f2d9a10",
    "channel": "general",
    "text": "Hello everyone",
    "timestamp": "2026-01-01T12:01:00+00:00",
}

SERVICE = register(
    BuiltinService(
        slug="stream",
        name="Stream",
        tagline="Send messages to channels and follow them live.",
        description=(
            "Create named channels, send text messages to them and read them back, or subscribe to a channel "
            "and receive each message as it is sent. Channels and messages are stored and private to your account."
        ),
        category="Messaging",
        icon="🌊",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="CreateChannel",
                handler=handlers.create_channel,
                description="Create a channel with a name and a description.",
                request_schema=request_object({"name": CHANNEL_NAME, "description": DESCRIPTION}, ["name"]),
                response_schema=response_object({"channel": CHANNEL}),
                price_units=100,
                examples=[
                    {
                        "title": "Create a channel",
                        "request": {"name": "general", "description": "Anything goes"},
                        "response": {"channel": EXAMPLE_CHANNEL},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="ListChannels",
                handler=handlers.list_channels,
                description="List your channels in the order they were created.",
                request_schema=request_object({}, []),
                response_schema=response_object({"channels": {"type": "array", "items": CHANNEL}}),
                price_units=100,
                examples=[{"title": "List channels", "request": {}, "response": {"channels": [EXAMPLE_CHANNEL]}}],
            ),
            BuiltinEndpoint(
                name="SendMessage",
                handler=handlers.send_message,
                description="Store a message in a channel and send it to the channel's subscribers.",
                request_schema=request_object({"channel": CHANNEL_NAME, "text": TEXT}, ["channel", "text"]),
                response_schema=response_object({"message": MESSAGE}),
                price_units=100,
                examples=[
                    {
                        "title": "Say hello",
                        "request": {"channel": "general", "text": "Hello everyone"},
                        "response": {"message": EXAMPLE_MESSAGE},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="ListMessages",
                handler=handlers.list_messages,
                description="List a channel's latest messages, oldest first.",
                request_schema=request_object(
                    {
                        "channel": CHANNEL_NAME,
                        "limit": limit_property(
                            "How many of the latest messages to return.", default=handlers.DEFAULT_LIST_LIMIT
                        ),
                    },
                    ["channel"],
                ),
                response_schema=response_object({"messages": {"type": "array", "items": MESSAGE}}),
                price_units=100,
                examples=[
                    {
                        "title": "Read the latest messages",
                        "request": {"channel": "general", "limit": 10},
                        "response": {"messages": [EXAMPLE_MESSAGE]},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Subscribe",
                streaming=True,
                stream=handlers.subscribe,
                description=(
                    "Stream the messages sent to a channel from now on. The price is charged per message sent."
                ),
                request_schema=request_object({"channel": CHANNEL_NAME}, ["channel"]),
                response_schema=response_object({"message": MESSAGE}),
                price_units=100,
                examples=[
                    {
                        "title": "Follow a channel",
                        "request": {"channel": "general"},
                        "response": {"message": EXAMPLE_MESSAGE},
                    }
                ],
            ),
        ],
    )
)
