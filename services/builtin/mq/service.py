"""The mq service's endpoints, schemas and examples."""

from __future__ import annotations

from services.builtin.mq import handlers
from services.builtin.schemas import request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

TOPIC = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_.-]{1,128}$",
    "description": "The topic: 1 to 128 letters, digits, '_', '.' or '-'. Topics belong to your account.",
}
MESSAGE = {"type": "object", "description": "The message, any JSON object."}

SERVICE = register(
    BuiltinService(
        slug="mq",
        name="Message Queue",
        tagline="Publish messages and subscribe to them in real time.",
        description=(
            "Publish a JSON message to a topic and every subscriber of that topic in your account receives "
            "it at once. Messages are not stored: a subscriber that is not connected misses them. For "
            "durable topics read at your own pace, use the event service."
        ),
        category="Messaging",
        icon="📨",
        endpoints=[
            BuiltinEndpoint(
                name="Publish",
                handler=handlers.publish,
                description="Publish a message to a topic's current subscribers.",
                request_schema=request_object({"topic": TOPIC, "message": MESSAGE}, ["topic", "message"]),
                response_schema=response_object({}),
                price_units=100,
                examples=[
                    {
                        "title": "Publish an order",
                        "request": {"topic": "orders", "message": {"id": 42, "total": 1999}},
                        "response": {},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Subscribe",
                streaming=True,
                stream=handlers.subscribe,
                description=(
                    "Stream the messages published to a topic from now on. The price is charged per message sent."
                ),
                request_schema=request_object({"topic": TOPIC}, ["topic"]),
                response_schema=response_object({"topic": {"type": "string"}, "message": {"type": "object"}}),
                price_units=100,
                examples=[
                    {
                        "title": "Receive orders",
                        "request": {"topic": "orders"},
                        "response": {"topic": "orders", "message": {"id": 42, "total": 1999}},
                    }
                ],
            ),
        ],
    )
)
