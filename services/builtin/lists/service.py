"""The lists service's endpoints, schemas and examples, following M3O's Lists API."""

from __future__ import annotations

from services.builtin.events import events_endpoint
from services.builtin.lists import handlers
from services.builtin.schemas import MAX_OFFSET, request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

LIST_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The list's id."}
NAME = {"type": "string", "maxLength": 1000, "description": "The list's name."}
ITEMS = {
    "type": "array",
    "items": {"type": "string", "maxLength": 10_000},
    "maxItems": 10_000,
    "description": "The items in the list, in order.",
}
LIST = response_object(
    {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "items": {"type": "array", "items": {"type": "string"}},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
    }
)
ID_REQUEST = request_object({"id": LIST_ID}, ["id"])
LIST_RESPONSE = response_object({"list": LIST})
EXAMPLE_LIST = {
    "id": "groceries",
    "name": "Groceries",
    "items": ["Milk", "Eggs"],
    "created": "2026-01-01T12:00:00+00:00",
    "updated": "2026-01-01T12:00:00+00:00",
}
UPDATED_LIST = {**EXAMPLE_LIST, "items": ["Milk", "Eggs", "Bread"], "updated": "2026-01-01T12:05:00+00:00"}

SERVICE = register(
    BuiltinService(
        slug="lists",
        name="Lists",
        tagline="Keep named lists of items.",
        description=(
            "Create, read, update, delete and list named lists of text items, such as to-do or shopping "
            "lists, private to your account."
        ),
        category="Storage",
        icon="📋",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Create",
                handler=handlers.create,
                description="Create a list with a name, items or both. Give an id of your own, or get a new UUID.",
                request_schema=request_object({"id": LIST_ID, "name": NAME, "items": ITEMS}, []),
                response_schema=LIST_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Create a grocery list",
                        "request": {"id": "groceries", "name": "Groceries", "items": ["Milk", "Eggs"]},
                        "response": {"list": EXAMPLE_LIST},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Read",
                handler=handlers.read,
                description="Read a list by id.",
                request_schema=ID_REQUEST,
                response_schema=LIST_RESPONSE,
                price_units=100,
                examples=[{"title": "Read a list", "request": {"id": "groceries"}, "response": {"list": EXAMPLE_LIST}}],
            ),
            BuiltinEndpoint(
                name="Update",
                handler=handlers.update,
                description=(
                    "Change a list's name, its items or both. Items you give replace all the items; "
                    "a field you leave out keeps its value."
                ),
                request_schema=request_object(
                    {"list": request_object({"id": LIST_ID, "name": NAME, "items": ITEMS}, ["id"])}, ["list"]
                ),
                response_schema=LIST_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Add an item",
                        "request": {"list": {"id": "groceries", "items": ["Milk", "Eggs", "Bread"]}},
                        "response": {"list": UPDATED_LIST},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="List",
                handler=handlers.list_lists,
                description="List your lists, most recently updated first.",
                request_schema=request_object(
                    {
                        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "description": "Lists to skip."},
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 25,
                            "description": "Maximum number of lists to return.",
                        },
                    },
                    [],
                ),
                response_schema=response_object({"lists": {"type": "array", "items": LIST}}),
                price_units=100,
                examples=[{"title": "List your lists", "request": {}, "response": {"lists": [UPDATED_LIST]}}],
            ),
            BuiltinEndpoint(
                name="Delete",
                handler=handlers.delete,
                description="Delete a list by id. The response contains the list as it was.",
                request_schema=ID_REQUEST,
                response_schema=LIST_RESPONSE,
                price_units=100,
                examples=[
                    {"title": "Delete a list", "request": {"id": "groceries"}, "response": {"list": UPDATED_LIST}}
                ],
            ),
            events_endpoint(
                service="lists",
                record_name="list",
                id_schema=LIST_ID,
                example_request={"id": EXAMPLE_LIST["id"]},
                example_record=EXAMPLE_LIST,
                delete_carries="A delete carries the list as it was.",
            ),
        ],
    )
)
