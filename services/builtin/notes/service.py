"""The notes service's endpoints, schemas and examples."""

from __future__ import annotations

from services.builtin.events import events_endpoint
from services.builtin.notes import handlers
from services.builtin.schemas import MAX_OFFSET, request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

NOTE_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The note's id."}
TITLE = {"type": "string", "maxLength": 1000, "description": "The note's title."}
TEXT = {"type": "string", "maxLength": 100_000, "description": "The note's text."}
NOTE = response_object(
    {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
    }
)
ID_REQUEST = request_object({"id": NOTE_ID}, ["id"])
EXAMPLE_NOTE = {
    "id": "shopping",
    "title": "Shopping",
    "text": "Milk, eggs",
    "created": "2026-01-01T12:00:00+00:00",
    "updated": "2026-01-01T12:00:00+00:00",
}

SERVICE = register(
    BuiltinService(
        slug="notes",
        name="Notes",
        tagline="Keep titled notes.",
        description="Create, read, update, delete and list short notes with a title and a text, private to your account.",
        category="Storage",
        icon="📝",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Create",
                handler=handlers.create,
                description="Create a note. Give an id of your own, or get a new UUID.",
                request_schema=request_object({"id": NOTE_ID, "title": TITLE, "text": TEXT}, []),
                response_schema=response_object({"note": NOTE}),
                price_units=100,
                examples=[
                    {
                        "title": "Create a shopping list",
                        "request": {"id": "shopping", "title": "Shopping", "text": "Milk, eggs"},
                        "response": {"note": EXAMPLE_NOTE},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Read",
                handler=handlers.read,
                description="Read a note by id.",
                request_schema=ID_REQUEST,
                response_schema=response_object({"note": NOTE}),
                price_units=100,
                examples=[{"title": "Read a note", "request": {"id": "shopping"}, "response": {"note": EXAMPLE_NOTE}}],
            ),
            BuiltinEndpoint(
                name="Update",
                handler=handlers.update,
                description="Change a note's title or text; a field you leave out keeps its value.",
                request_schema=request_object({"id": NOTE_ID, "title": TITLE, "text": TEXT}, ["id"]),
                response_schema=response_object({"note": NOTE}),
                price_units=100,
                examples=[
                    {
                        "title": "Add to the list",
                        "request": {"id": "shopping", "text": "Milk, eggs, bread"},
                        "response": {"note": {**EXAMPLE_NOTE, "text": "Milk, eggs, bread"}},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="List",
                handler=handlers.list_notes,
                description="List notes, most recently updated first.",
                request_schema=request_object(
                    {
                        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "description": "Notes to skip."},
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 25,
                            "description": "Maximum number of notes to return.",
                        },
                    },
                    [],
                ),
                response_schema=response_object({"notes": {"type": "array", "items": NOTE}}),
                price_units=100,
                examples=[{"title": "List notes", "request": {}, "response": {"notes": [EXAMPLE_NOTE]}}],
            ),
            BuiltinEndpoint(
                name="Delete",
                handler=handlers.delete,
                description="Delete a note by id.",
                request_schema=ID_REQUEST,
                response_schema=response_object({"id": {"type": "string"}}),
                price_units=100,
                examples=[{"title": "Delete a note", "request": {"id": "shopping"}, "response": {"id": "shopping"}}],
            ),
            events_endpoint(
                service="notes",
                record_name="note",
                id_schema=NOTE_ID,
                example_request={"id": "shopping"},
                example_record=EXAMPLE_NOTE,
                delete_carries="A delete carries only the note's id.",
            ),
        ],
    )
)
