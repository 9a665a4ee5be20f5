"""The chat service's endpoints, schemas and examples, following M3O's Chat API."""

from __future__ import annotations

from services.builtin.chat import handlers
from services.builtin.schemas import limit_property, offset_property, request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

ROOM_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The room's id."}
USER_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": 256,
    "description": "A user id of your own application; the room's members are such ids.",
}
ROOM = response_object(
    {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "user_ids": {"type": "array", "items": {"type": "string"}},
        "created": {"type": "string", "format": "date-time"},
    }
)
MESSAGE = response_object(
    {
        "id": {"type": "string"},
        "client": {"type": "string"},
        "room_id": {"type": "string"},
        "user_id": {"type": "string"},
        "subject": {"type": "string"},
        "text": {"type": "string"},
        "sent": {"type": "string", "format": "date-time"},
    }
)
ROOM_RESPONSE = response_object({"room": ROOM})
MEMBER_REQUEST = request_object({"room_id": ROOM_ID, "user_id": USER_ID}, ["room_id", "user_id"])
EXAMPLE_ROOM_ID = "support"
EXAMPLE_ROOM = {
    "id": EXAMPLE_ROOM_ID,
    "name": "Support",
    "description": "Questions about orders",
    "user_ids": ["alice", "bob"],
    "created": "2026-01-01T12:00:00+00:00",
}
EXAMPLE_MESSAGE = {
    "id": "7a9e0c52-1f3b-4d6a-8e2c-9b4f5d1a3e70",
    "client": "alice-1",
    "room_id": EXAMPLE_ROOM_ID,
    "user_id": "alice",
    "subject": "",
    "text": "Where is my order?",
    "sent": "2026-01-01T12:01:00+00:00",
}

SERVICE = register(
    BuiltinService(
        slug="chat",
        name="Chat",
        tagline="Chat rooms for your users, with history and live messages.",
        description=(
            "Create chat rooms, choose their members from your own users' ids, and let members send messages, "
            "read the history and join a room to receive its messages live. A member you kick, or who leaves, "
            "can no longer send and stops receiving. Rooms and messages are private to your account."
        ),
        category="Messaging",
        icon="💭",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Create",
                handler=handlers.create,
                description=(
                    "Create a room with a name, a description and its first members. Give an id of your own, "
                    "or get a new UUID."
                ),
                request_schema=request_object(
                    {
                        "id": ROOM_ID,
                        "name": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "The room's name."},
                        "description": {"type": "string", "maxLength": 10_000, "description": "The room's purpose."},
                        "user_ids": {
                            "type": "array",
                            "items": USER_ID,
                            "maxItems": handlers.MAX_MEMBERS,
                            "description": "The room's first members; invite more later.",
                        },
                    },
                    ["name"],
                ),
                response_schema=ROOM_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Open a support room",
                        "request": {
                            "id": EXAMPLE_ROOM_ID,
                            "name": "Support",
                            "description": "Questions about orders",
                            "user_ids": ["alice", "bob"],
                        },
                        "response": {"room": EXAMPLE_ROOM},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Invite",
                handler=handlers.invite,
                description="Make a user a member of a room, so that it can send and join.",
                request_schema=MEMBER_REQUEST,
                response_schema=ROOM_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Invite Carol",
                        "request": {"room_id": EXAMPLE_ROOM_ID, "user_id": "carol"},
                        "response": {"room": {**EXAMPLE_ROOM, "user_ids": ["alice", "bob", "carol"]}},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Send",
                handler=handlers.send,
                description=(
                    "Send a member's message to a room: it is stored for History and sent to the room's Join "
                    "streams. Give a client id to make retries safe: a Send with the id of a message already "
                    "in the room returns that message and stores nothing."
                ),
                request_schema=request_object(
                    {
                        "room_id": ROOM_ID,
                        "user_id": {**USER_ID, "description": "The sender, a member of the room."},
                        "text": {"type": "string", "minLength": 1, "maxLength": 10_000, "description": "The message."},
                        "subject": {"type": "string", "maxLength": 1000, "description": "An optional subject."},
                        "client": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 256,
                            "description": "Your id for this message, unique in the room, to make retries safe.",
                        },
                    },
                    ["room_id", "user_id", "text"],
                ),
                response_schema=response_object({"message": MESSAGE}),
                price_units=100,
                examples=[
                    {
                        "title": "Ask a question",
                        "request": {
                            "room_id": EXAMPLE_ROOM_ID,
                            "user_id": "alice",
                            "text": "Where is my order?",
                            "client": "alice-1",
                        },
                        "response": {"message": EXAMPLE_MESSAGE},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="History",
                handler=handlers.history,
                description=(
                    "List a room's messages in the order they were sent, a page at a time: the latest, or those "
                    "sent before the message you name."
                ),
                request_schema=request_object(
                    {
                        "room_id": ROOM_ID,
                        "before": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 36,
                            "description": "A message id: return the messages sent before it, for the previous page.",
                        },
                        "limit": limit_property("Maximum number of messages to return.", default=handlers.DEFAULT_PAGE),
                    },
                    ["room_id"],
                ),
                response_schema=response_object({"messages": {"type": "array", "items": MESSAGE}}),
                price_units=100,
                examples=[
                    {
                        "title": "Read the latest messages",
                        "request": {"room_id": EXAMPLE_ROOM_ID},
                        "response": {"messages": [EXAMPLE_MESSAGE]},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="List",
                handler=handlers.list_rooms,
                description="List your rooms in the order they were created, all of them or those of one member.",
                request_schema=request_object(
                    {
                        "user_id": {**USER_ID, "description": "Only rooms this user is a member of."},
                        "offset": offset_property("rooms"),
                        "limit": limit_property("Maximum number of rooms to return.", default=handlers.DEFAULT_PAGE),
                    },
                    [],
                ),
                response_schema=response_object({"rooms": {"type": "array", "items": ROOM}}),
                price_units=100,
                examples=[{"title": "List Alice's rooms", "request": {"user_id": "alice"}, "response": {"rooms": [EXAMPLE_ROOM]}}],
            ),
            BuiltinEndpoint(
                name="Join",
                streaming=True,
                stream=handlers.join,
                description=(
                    "Stream a room's messages from now on to one of its members. The stream ends with an error "
                    "frame when the member is kicked or leaves, or the room is deleted. The price is charged per "
                    "message sent."
                ),
                request_schema=MEMBER_REQUEST,
                response_schema=response_object({"message": MESSAGE}),
                price_units=100,
                examples=[
                    {
                        "title": "Join the support room as Bob",
                        "request": {"room_id": EXAMPLE_ROOM_ID, "user_id": "bob"},
                        "response": {"message": EXAMPLE_MESSAGE},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Kick",
                handler=handlers.remove_member,
                description="Remove a member from a room: it can no longer send, and its Join streams end.",
                request_schema=MEMBER_REQUEST,
                response_schema=ROOM_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Kick Bob",
                        "request": {"room_id": EXAMPLE_ROOM_ID, "user_id": "bob"},
                        "response": {"room": {**EXAMPLE_ROOM, "user_ids": ["alice"]}},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Leave",
                handler=handlers.remove_member,
                description="Leave a room as a member: it can no longer send, and its Join streams end.",
                request_schema=MEMBER_REQUEST,
                response_schema=ROOM_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Alice leaves",
                        "request": {"room_id": EXAMPLE_ROOM_ID, "user_id": "alice"},
                        "response": {"room": {**EXAMPLE_ROOM, "user_ids": ["bob"]}},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Delete",
                handler=handlers.delete,
                description="Delete a room and its messages. The response contains the room as it was.",
                request_schema=request_object({"room_id": ROOM_ID}, ["room_id"]),
                response_schema=ROOM_RESPONSE,
                price_units=100,
                examples=[
                    {"title": "Delete a room", "request": {"room_id": EXAMPLE_ROOM_ID}, "response": {"room": EXAMPLE_ROOM}}
                ],
            ),
        ],
    )
)
