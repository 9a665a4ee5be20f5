"""The rss service's endpoints, schemas and examples."""

from __future__ import annotations

from services.builtin.rss import handlers
from services.builtin.schemas import request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

NAME = {"type": "string", "minLength": 1, "maxLength": 200, "description": "The feed's name, unique in your account."}
CATEGORY = {"type": "string", "maxLength": 200, "description": "A category to group feeds by."}
ERROR = {
    "type": "object",
    "description": "The error envelope of the last crawl if it failed, else an empty object.",
    "properties": {
        "id": {"type": "string"},
        "code": {"type": "integer"},
        "detail": {"type": "string"},
        "status": {"type": "string"},
    },
}
FEED = response_object(
    {
        "name": {"type": "string"},
        "url": {"type": "string"},
        "category": {"type": "string"},
        "last_crawled": {"type": "string", "description": "When the feed was last crawled, or empty."},
        "last_error": ERROR,
        "created": {"type": "string", "format": "date-time"},
    }
)
ENTRY = response_object(
    {
        "id": {"type": "string", "description": "The entry's id in its feed."},
        "feed": {"type": "string", "description": "The name of the feed it came from."},
        "title": {"type": "string"},
        "link": {"type": "string"},
        "summary": {"type": "string"},
        "published": {"type": "string", "description": "When it was published, or empty if the feed does not say."},
    }
)
EXAMPLE_FEED = {
    "name": "project-news",
    "url": "https://example.com/feed.xml",
    "category": "news",
    "last_crawled": "2026-01-01T12:00:01+00:00",
    "last_error": {},
    "created": "2026-01-01T12:00:00+00:00",
}
EXAMPLE_ENTRY = {
    "id": "https://example.com/posts/release-2",
    "feed": "project-news",
    "title": "Release 2 is out",
    "link": "https://example.com/posts/release-2",
    "summary": "What changed in release 2.",
    "published": "2026-01-01T09:00:00+00:00",
}

SERVICE = register(
    BuiltinService(
        slug="rss",
        name="RSS",
        tagline="Follow RSS and Atom feeds.",
        description=(
            "Add RSS or Atom feeds by URL and read their entries, newest first. Feeds are fetched when added and "
            "then every 15 minutes by default. Private, loopback and cloud metadata addresses are rejected, also "
            "when a feed redirects to one."
        ),
        category="Storage",
        icon="📰",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Add",
                handler=handlers.add,
                description="Add a feed by URL; its entries appear once the first crawl is done.",
                request_schema=request_object(
                    {
                        "name": NAME,
                        "url": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 2048,
                            "description": "The http or https URL of the feed.",
                        },
                        "category": CATEGORY,
                    },
                    ["name", "url"],
                ),
                response_schema=response_object({"feed": FEED}),
                price_units=1_000,
                examples=[
                    {
                        "title": "Follow a project's news",
                        "request": {"name": "project-news", "url": "https://example.com/feed.xml", "category": "news"},
                        "response": {"feed": {**EXAMPLE_FEED, "last_crawled": ""}},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Feed",
                handler=handlers.feed,
                description="Read entries, newest first, from one feed, one category or all your feeds.",
                request_schema=request_object(
                    {
                        "name": {**NAME, "description": "Only entries of this feed."},
                        "category": {**CATEGORY, "description": "Only entries of feeds in this category."},
                        "offset": {"type": "integer", "minimum": 0, "default": 0, "description": "Entries to skip."},
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 25,
                            "description": "Maximum number of entries to return.",
                        },
                    },
                    [],
                ),
                response_schema=response_object({"entries": {"type": "array", "items": ENTRY}}),
                price_units=100,
                examples=[
                    {"title": "Read a feed", "request": {"name": "project-news"}, "response": {"entries": [EXAMPLE_ENTRY]}}
                ],
            ),
            BuiltinEndpoint(
                name="List",
                handler=handlers.list_feeds,
                description="List your feeds with the outcome of each one's last crawl.",
                request_schema=request_object({"category": {**CATEGORY, "description": "Only feeds in this category."}}, []),
                response_schema=response_object({"feeds": {"type": "array", "items": FEED}}),
                price_units=100,
                examples=[{"title": "List feeds", "request": {}, "response": {"feeds": [EXAMPLE_FEED]}}],
            ),
            BuiltinEndpoint(
                name="Remove",
                handler=handlers.remove,
                description="Remove a feed and its entries.",
                request_schema=request_object({"name": NAME}, ["name"]),
                response_schema=response_object({"name": {"type": "string"}}),
                price_units=100,
                examples=[
                    {"title": "Remove a feed", "request": {"name": "project-news"}, "response": {"name": "project-news"}}
                ],
            ),
        ],
    )
)
