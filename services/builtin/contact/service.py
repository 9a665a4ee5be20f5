"""The contact service's endpoints, schemas and examples, following M3O's Contact API."""

from __future__ import annotations

from typing import Any

from services.builtin.contact import handlers
from services.builtin.schemas import MAX_OFFSET, request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

CONTACT_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The contact's id."}
LABEL = {"type": "string", "maxLength": 100, "description": "A label such as home or work."}


def detail_list(value_field: str, value_schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "maxItems": 100,
        "items": request_object({"label": LABEL, value_field: value_schema}, [value_field]),
        "description": description,
    }


def detail_output(value_field: str) -> dict[str, Any]:
    return {"type": "array", "items": response_object({"label": {"type": "string"}, value_field: {"type": "string"}})}


FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "The contact's name."},
    "phones": detail_list("number", {"type": "string", "minLength": 1, "maxLength": 100}, "Phone numbers."),
    "emails": detail_list("address", {"type": "string", "minLength": 1, "maxLength": 320}, "Email addresses."),
    "links": detail_list("url", {"type": "string", "minLength": 1, "maxLength": 2048}, "Web links, http or https."),
    "birthday": {"type": "string", "maxLength": 10, "description": "The birthday as YYYY-MM-DD; empty for none."},
    "addresses": detail_list("location", {"type": "string", "minLength": 1, "maxLength": 1000}, "Postal addresses."),
    "social_medias": detail_list(
        "username", {"type": "string", "minLength": 1, "maxLength": 200}, "Social media accounts, the label naming the network."
    ),
    "note": {"type": "string", "maxLength": 10_000, "description": "A note about the contact."},
}
CONTACT = response_object(
    {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "phones": detail_output("number"),
        "emails": detail_output("address"),
        "links": detail_output("url"),
        "birthday": {"type": "string"},
        "addresses": detail_output("location"),
        "social_medias": detail_output("username"),
        "note": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    }
)
ID_REQUEST = request_object({"id": CONTACT_ID}, ["id"])
CONTACT_RESPONSE = response_object({"contact": CONTACT})
EXAMPLE_REQUEST = {
    "id": "jane",
    "name": "Jane Doe",
    "phones": [{"label": "mobile", "number": "+44 7700 900123"}],
    "emails": [{"label": "work", "address": "jane@example.com"}],
    "links": [{"label": "blog", "url": "https://jane.example.com"}],
    "birthday": "1990-04-01",
    "addresses": [{"label": "home", "location": "1 Main Street, Springfield"}],
    "social_medias": [{"label": "mastodon", "username": "@jane@example.social"}],
    "note": "Met at the conference.",
}
EXAMPLE_CONTACT = {
    **EXAMPLE_REQUEST,
    "created_at": "2026-01-01T12:00:00+00:00",
    "updated_at": "2026-01-01T12:00:00+00:00",
}
UPDATED_CONTACT = {**EXAMPLE_CONTACT, "note": "Met at the conference; likes tea.", "updated_at": "2026-01-01T12:05:00+00:00"}

SERVICE = register(
    BuiltinService(
        slug="contact",
        name="Contact",
        tagline="Keep an address book.",
        description=(
            "Create, read, update, delete and list contacts with phone numbers, email addresses, links, "
            "postal addresses, social media accounts, a birthday and a note, private to your account."
        ),
        category="Storage",
        icon="📇",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Create",
                handler=handlers.create,
                description="Create a contact. A name is required. Give an id of your own, or get a new UUID.",
                request_schema=request_object({"id": CONTACT_ID, **FIELDS}, ["name"]),
                response_schema=CONTACT_RESPONSE,
                price_units=100,
                examples=[{"title": "Add a contact", "request": EXAMPLE_REQUEST, "response": {"contact": EXAMPLE_CONTACT}}],
            ),
            BuiltinEndpoint(
                name="Read",
                handler=handlers.read,
                description="Read a contact by id.",
                request_schema=ID_REQUEST,
                response_schema=CONTACT_RESPONSE,
                price_units=100,
                examples=[{"title": "Read a contact", "request": {"id": "jane"}, "response": {"contact": EXAMPLE_CONTACT}}],
            ),
            BuiltinEndpoint(
                name="Update",
                handler=handlers.update,
                description=(
                    "Change a contact. A field you leave out keeps its value; a list you give, such as phones, "
                    "replaces the old list."
                ),
                request_schema=request_object({"id": CONTACT_ID, **FIELDS}, ["id"]),
                response_schema=CONTACT_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Add to the note",
                        "request": {"id": "jane", "note": "Met at the conference; likes tea."},
                        "response": {"contact": UPDATED_CONTACT},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="List",
                handler=handlers.list_contacts,
                description="List contacts by name, a page at a time.",
                request_schema=request_object(
                    {
                        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "description": "Contacts to skip."},
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 30,
                            "description": "Maximum number of contacts to return.",
                        },
                    },
                    [],
                ),
                response_schema=response_object({"contacts": {"type": "array", "items": CONTACT}}),
                price_units=100,
                examples=[
                    {"title": "List contacts", "request": {"offset": 0, "limit": 10}, "response": {"contacts": [UPDATED_CONTACT]}}
                ],
            ),
            BuiltinEndpoint(
                name="Delete",
                handler=handlers.delete,
                description="Delete a contact by id.",
                request_schema=ID_REQUEST,
                response_schema=response_object({}),
                price_units=100,
                examples=[{"title": "Delete a contact", "request": {"id": "jane"}, "response": {}}],
            ),
        ],
    )
)
