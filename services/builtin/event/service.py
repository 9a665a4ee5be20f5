"""The event service's endpoints, schemas and examples."""

from __future__ import annotations

from services.builtin.event import handlers
from services.builtin.schemas import request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

TOPIC = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_.-]{1,128}$",
    "description": "The topic: 1 to 128 letters, digits, '_', '.' or '-'. Topics belong to your account.",
}
GROUP = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_.-]{1,128}$",
    "default": handlers.DEFAULT_GROUP,
    "description": "The consumer group. Each message goes to one consumer of a group, once.",
}
OFFSET = {"type": "integer", "minimum": 1, "description": "A message's number in its topic, from 1."}
EVENT = response_object(
    {
        "topic": {"type": "string"},
        "offset": {"type": "integer"},
        "message": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time"},
    }
)
EXAMPLE_EVENT = {
    "topic": "signups",
    "offset": 1,
    "message": {"user": "alice"},
    "timestamp": "2026-01-01T12:00:00+00:00",
}

SERVICE = register(
    BuiltinService(
        slug="event",
        name="Events",
        tagline="Durable topics with consumer groups.",
        description=(
            "Publish JSON messages to a topic that keeps them. Read them back by offset, or consume them "
            "as a stream in a group: each message goes to one consumer of the group once, and a group "
            "resumes where it stopped after a disconnect."
        ),
        category="Messaging",
        icon="📬",
        purge_account=lambda account_id: handlers.Topic.objects.filter(account_id=account_id).delete(),
        endpoints=[
            BuiltinEndpoint(
                name="Publish",
                handler=handlers.publish,
                description="Store a message at the end of a topic and wake its consumers.",
                request_schema=request_object(
                    {"topic": TOPIC, "message": {"type": "object", "description": "The message, any JSON object."}},
                    ["topic", "message"],
                ),
                response_schema=response_object({"topic": {"type": "string"}, "offset": {"type": "integer"}}),
                price_units=100,
                examples=[
                    {
                        "title": "Record a signup",
                        "request": {"topic": "signups", "message": {"user": "alice"}},
                        "response": {"topic": "signups", "offset": 1},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Consume",
                streaming=True,
                stream=handlers.consume,
                description=(
                    "Stream a topic's messages as a member of a group. A new group starts at the offset you "
                    "give, or after the newest message; an existing group resumes where it stopped and the "
                    "offset is ignored. The price is charged per message sent."
                ),
                request_schema=request_object({"topic": TOPIC, "group": GROUP, "offset": OFFSET}, ["topic"]),
                response_schema=EVENT,
                price_units=100,
                examples=[
                    {
                        "title": "Consume signups",
                        "request": {"topic": "signups", "group": "mailer", "offset": 1},
                        "response": EXAMPLE_EVENT,
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Read",
                handler=handlers.read,
                description="Read a topic's stored messages from an offset, oldest first.",
                request_schema=request_object(
                    {
                        "topic": TOPIC,
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": handlers.DEFAULT_READ_LIMIT,
                            "description": "The most messages to return.",
                        },
                        "offset": {**OFFSET, "default": 1, "description": "The first offset to return."},
                    },
                    ["topic"],
                ),
                response_schema=response_object({"messages": {"type": "array", "items": EVENT}}),
                price_units=100,
                examples=[
                    {
                        "title": "Read the first signups",
                        "request": {"topic": "signups", "limit": 10, "offset": 1},
                        "response": {"messages": [EXAMPLE_EVENT]},
                    }
                ],
            ),
        ],
    )
)
