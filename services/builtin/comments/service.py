"""The comments service's endpoints, schemas and examples, following M3O's Comments API."""

from __future__ import annotations

from services.builtin.events import events_endpoint
from services.builtin.comments import handlers
from services.builtin.schemas import MAX_OFFSET, request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

COMMENT_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The comment's id."}
SUBJECT = {"type": "string", "maxLength": 1000, "description": "What the comment is about, such as a page or a ticket."}
TEXT = {"type": "string", "maxLength": 100_000, "description": "The comment's text."}
COMMENT = response_object(
    {
        "id": {"type": "string"},
        "subject": {"type": "string"},
        "text": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
    }
)
ID_REQUEST = request_object({"id": COMMENT_ID}, ["id"])
COMMENT_RESPONSE = response_object({"comment": COMMENT})
EXAMPLE_COMMENT = {
    "id": "first-comment",
    "subject": "/blog/hello-world",
    "text": "Great post!",
    "created": "2026-01-01T12:00:00+00:00",
    "updated": "2026-01-01T12:00:00+00:00",
}
UPDATED_COMMENT = {**EXAMPLE_COMMENT, "text": "Great post, thanks!", "updated": "2026-01-01T12:05:00+00:00"}

SERVICE = register(
    BuiltinService(
        slug="comments",
        name="Comments",
        tagline="Store comments on anything.",
        description=(
            "Create, read, update, delete and list comments, each with a subject such as a page or a ticket "
            "and a text, private to your account."
        ),
        category="Storage",
        icon="💬",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Create",
                handler=handlers.create,
                description="Create a comment with a subject, a text or both. Give an id of your own, or get a new UUID.",
                request_schema=request_object({"id": COMMENT_ID, "subject": SUBJECT, "text": TEXT}, []),
                response_schema=COMMENT_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Comment on a blog post",
                        "request": {"id": "first-comment", "subject": "/blog/hello-world", "text": "Great post!"},
                        "response": {"comment": EXAMPLE_COMMENT},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Read",
                handler=handlers.read,
                description="Read a comment by id.",
                request_schema=ID_REQUEST,
                response_schema=COMMENT_RESPONSE,
                price_units=100,
                examples=[
                    {"title": "Read a comment", "request": {"id": "first-comment"}, "response": {"comment": EXAMPLE_COMMENT}}
                ],
            ),
            BuiltinEndpoint(
                name="Update",
                handler=handlers.update,
                description="Change a comment's subject or text; a field you leave out keeps its value.",
                request_schema=request_object(
                    {"comment": request_object({"id": COMMENT_ID, "subject": SUBJECT, "text": TEXT}, ["id"])},
                    ["comment"],
                ),
                response_schema=COMMENT_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Edit a comment",
                        "request": {"comment": {"id": "first-comment", "text": "Great post, thanks!"}},
                        "response": {"comment": UPDATED_COMMENT},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="List",
                handler=handlers.list_comments,
                description="List comments in the order they were made, all of them or those on one subject.",
                request_schema=request_object(
                    {
                        "subject": {"type": "string", "maxLength": 1000, "description": "Only comments on this subject."},
                        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "description": "Comments to skip."},
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 25,
                            "description": "Maximum number of comments to return.",
                        },
                    },
                    [],
                ),
                response_schema=response_object({"comments": {"type": "array", "items": COMMENT}}),
                price_units=100,
                examples=[
                    {
                        "title": "List the comments on a post",
                        "request": {"subject": "/blog/hello-world"},
                        "response": {"comments": [UPDATED_COMMENT]},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Delete",
                handler=handlers.delete,
                description="Delete a comment by id. The response contains the comment as it was.",
                request_schema=ID_REQUEST,
                response_schema=COMMENT_RESPONSE,
                price_units=100,
                examples=[
                    {
                        "title": "Delete a comment",
                        "request": {"id": "first-comment"},
                        "response": {"comment": UPDATED_COMMENT},
                    }
                ],
            ),
            events_endpoint(
                service="comments",
                record_name="comment",
                id_schema=COMMENT_ID,
                example_request={"id": EXAMPLE_COMMENT["id"]},
                example_record=EXAMPLE_COMMENT,
                delete_carries="A delete carries the comment as it was.",
            ),
        ],
    )
)
