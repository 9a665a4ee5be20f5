from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from services.builtin.comments.models import Comment
from services.builtin.storable import check_write_room, json_size, reject_unstorable
from services.kit import BadRequest, CallContext, NotFound
from services.streaming.changes import change_announce


def _error_id(context: CallContext) -> str:
    return f"comments.{context.endpoint.lower()}"


def _comments(context: CallContext) -> QuerySet[Comment]:
    return Comment.objects.filter(account_id=context.account_id)


def _missing(context: CallContext, comment_id: str) -> NotFound:
    return NotFound(f"No comment with id {comment_id[:100]!r}.", error_id=_error_id(context))


def _size(subject: str, text: str) -> int:
    return json_size({"subject": subject, "text": text})


def create(context: CallContext) -> dict[str, Any]:
    """Create a comment with a subject, a text or both. Give an id of your own, or get a new UUID."""
    reject_unstorable(context.body, error_id=_error_id(context))
    subject = context.body.get("subject", "")
    text = context.body.get("text", "")
    if not subject and not text:
        raise BadRequest(
            "Give the comment a subject, a text, or both.",
            error_id=_error_id(context),
            fields={"text": "Give a subject or a text."},
        )
    comment_id = context.body.get("id") or str(uuid.uuid4())
    size = _size(subject, text)

    with transaction.atomic():
        check_write_room(rows=_comments(context), account_id=context.account_id, service="comments", size=size)
        try:
            with transaction.atomic():
                comment = Comment.objects.create(
                    account_id=context.account_id, comment_id=comment_id, subject=subject, text=text, size_bytes=size
                )
        except IntegrityError:
            raise BadRequest(
                f"A comment with id {comment_id[:100]!r} already exists. Use Update to change it.",
                error_id=_error_id(context),
                fields={"id": "Already exists."},
            ) from None
        change_announce(service="comments", account_id=context.account_id, kind="create", record=comment.as_dict())
    return {"comment": comment.as_dict()}


def read(context: CallContext) -> dict[str, Any]:
    comment = _comments(context).filter(comment_id=context.body["id"]).first()
    if comment is None:
        raise _missing(context, context.body["id"])
    return {"comment": comment.as_dict()}


def update(context: CallContext) -> dict[str, Any]:
    """Change a comment's subject, its text or both; a field left out keeps its value."""
    reject_unstorable(context.body, error_id=_error_id(context))
    requested_comment = context.body["comment"]
    changes = {name: requested_comment[name] for name in ("subject", "text") if name in requested_comment}

    with transaction.atomic():
        comment = _comments(context).select_for_update().filter(comment_id=requested_comment["id"]).first()
        if comment is None:
            raise _missing(context, requested_comment["id"])
        for name, value in changes.items():
            setattr(comment, name, value)
        size = _size(comment.subject, comment.text)
        check_write_room(
            rows=_comments(context),
            account_id=context.account_id,
            service="comments",
            size=size,
            replacing_size=comment.size_bytes,
        )
        comment.size_bytes = size
        comment.save(update_fields=[*changes, "size_bytes", "updated_at"])
        change_announce(service="comments", account_id=context.account_id, kind="update", record=comment.as_dict())
    return {"comment": comment.as_dict()}


def delete(context: CallContext) -> dict[str, Any]:
    """Delete a comment and return it as it was."""
    with transaction.atomic():
        comment = _comments(context).select_for_update().filter(comment_id=context.body["id"]).first()
        if comment is None:
            raise _missing(context, context.body["id"])
        deleted = comment.as_dict()
        comment.delete()
        change_announce(service="comments", account_id=context.account_id, kind="delete", record=deleted)
    return {"comment": deleted}


def list_comments(context: CallContext) -> dict[str, Any]:
    """List comments in the order they were made, optionally only those on one subject, a page at a time."""
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 25)
    comments = _comments(context)
    if "subject" in context.body:
        comments = comments.filter(subject=context.body["subject"])
    page = comments.order_by("created_at", "comment_id")[offset : offset + limit]
    return {"comments": [comment.as_dict() for comment in page]}


def purge_account(account_id: int) -> None:
    Comment.objects.filter(account_id=account_id).delete()
