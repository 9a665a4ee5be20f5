"""The url service's endpoints, schemas and examples."""

from __future__ import annotations

from typing import Any

from services.builtin.schemas import MAX_OFFSET, request_object, response_object
from services.builtin.url import handlers
from services.registry import BuiltinEndpoint, BuiltinService, Handler, register

SHORT_ID = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_-]{3,64}$",
    "description": "The short id: 3 to 64 letters, digits, - or _.",
}
DESTINATION = {
    "type": "string",
    "minLength": 1,
    "maxLength": 2048,
    "description": "The http:// or https:// address the short link redirects to.",
}
LINK = response_object(
    {
        "id": {"type": "string"},
        "shortURL": {"type": "string"},
        "destinationURL": {"type": "string"},
        "hits": {"type": "integer", "description": "Visits to the short link."},
        "created": {"type": "string", "format": "date-time"},
    }
)
LINK_RESPONSE = response_object({"url": LINK})
ID_REQUEST = request_object({"id": SHORT_ID}, ["id"])
EXAMPLE_LINK = {
    "id": "docs",
    "shortURL": "http://127.0.0.1:8000/u/docs",
    "destinationURL": "https://example.com/docs",
    "hits": 0,
    "created": "2026-01-01T12:00:00+00:00",
}
PAGE = {
    "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "description": "Links to skip."},
    "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 25, "description": "Maximum links returned."},
}


def _endpoint(name: str, handler: Handler, description: str, **spec: Any) -> BuiltinEndpoint:
    return BuiltinEndpoint(name=name, handler=handler, description=description, price_units=100, **spec)


SERVICE = register(
    BuiltinService(
        slug="url",
        name="URL Shortener",
        tagline="Short links that redirect and count visits.",
        description=(
            "Turn a long http or https address into a short link at /u/<id>, with a random id or one you "
            "choose. Each visit redirects and is counted. Short ids are one namespace shared by all accounts."
        ),
        category="Developer tools",
        icon="🔗",
        purge_account=handlers.purge_account,
        endpoints=[
            _endpoint(
                "Shorten",
                handlers.shorten,
                "Create a short link with a random id.",
                request_schema=request_object({"destinationURL": DESTINATION}, ["destinationURL"]),
                response_schema=LINK_RESPONSE,
                examples=[
                    {
                        "title": "Shorten a link",
                        "request": {"destinationURL": "https://example.com/a/very/long/path"},
                        "response": {
                            "url": {
                                **EXAMPLE_LINK,
                                "id": "Xb3_kQ9z",
                                "shortURL": "http://127.0.0.1:8000/u/Xb3_kQ9z",
                                "destinationURL": "https://example.com/a/very/long/path",
                            }
                        },
                    }
                ],
            ),
            _endpoint(
                "Create",
                handlers.create,
                "Create a short link with the id you choose, or a random one if you leave id out.",
                request_schema=request_object({"destinationURL": DESTINATION, "id": SHORT_ID}, ["destinationURL"]),
                response_schema=LINK_RESPONSE,
                examples=[
                    {
                        "title": "Create a named link",
                        "request": {"id": "docs", "destinationURL": "https://example.com/docs"},
                        "response": {"url": EXAMPLE_LINK},
                    }
                ],
            ),
            _endpoint(
                "Resolve",
                handlers.resolve,
                "Look up one of your links: its destination and visit count.",
                request_schema=ID_REQUEST,
                response_schema=LINK_RESPONSE,
                examples=[{"title": "Look up a link", "request": {"id": "docs"}, "response": {"url": EXAMPLE_LINK}}],
            ),
            _endpoint(
                "Update",
                handlers.update,
                "Point one of your links at a new destination.",
                request_schema=request_object({"id": SHORT_ID, "destinationURL": DESTINATION}, ["id", "destinationURL"]),
                response_schema=LINK_RESPONSE,
                examples=[
                    {
                        "title": "Move a link",
                        "request": {"id": "docs", "destinationURL": "https://example.com/docs/v2"},
                        "response": {"url": {**EXAMPLE_LINK, "destinationURL": "https://example.com/docs/v2"}},
                    }
                ],
            ),
            _endpoint(
                "List",
                handlers.list_links,
                "List your links, newest first.",
                request_schema=request_object(PAGE, []),
                response_schema=response_object({"urls": {"type": "array", "items": LINK}}),
                examples=[{"title": "List links", "request": {}, "response": {"urls": [EXAMPLE_LINK]}}],
            ),
            _endpoint(
                "Delete",
                handlers.delete,
                "Delete one of your links; its id becomes free for anyone.",
                request_schema=ID_REQUEST,
                response_schema=response_object({"id": {"type": "string"}}),
                examples=[{"title": "Delete a link", "request": {"id": "docs"}, "response": {"id": "docs"}}],
            ),
        ],
    )
)
