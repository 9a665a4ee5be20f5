from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from services.builtin.notes.models import Note
from services.builtin.quota import check_room
from services.kit import BadRequest, CallContext, NotFound
from services.streaming.changes import change_announce


def _error_id(context: CallContext) -> str:
    return f"notes.{context.endpoint.lower()}"


def _notes(context: CallContext) -> QuerySet[Note]:
    return Note.objects.filter(account_id=context.account_id)


def _missing(context: CallContext) -> NotFound:
    return NotFound(f"No note with id {context.body['id'][:100]!r}.", error_id=_error_id(context))


def create(context: CallContext) -> dict[str, Any]:
    note_id = context.body.get("id") or str(uuid.uuid4())

    with transaction.atomic():
        check_room(account_id=context.account_id, service="notes", stored=_notes(context).count())
        try:
            with transaction.atomic():
                note = Note.objects.create(
                    account_id=context.account_id,
                    note_id=note_id,
                    title=context.body.get("title", ""),
                    text=context.body.get("text", ""),
                )
        except IntegrityError:
            raise BadRequest(
                f"A note with id {note_id[:100]!r} already exists. Use Update to change it.",
                error_id=_error_id(context),
                fields={"id": "Already exists."},
            ) from None
        change_announce(service="notes", account_id=context.account_id, kind="create", record=note.as_dict())
    return {"note": note.as_dict()}


def read(context: CallContext) -> dict[str, Any]:
    note = _notes(context).filter(note_id=context.body["id"]).first()
    if note is None:
        raise _missing(context)
    return {"note": note.as_dict()}


def update(context: CallContext) -> dict[str, Any]:
    """Change the title, the text or both; a field left out keeps its value."""
    changes = {name: context.body[name] for name in ("title", "text") if name in context.body}

    with transaction.atomic():
        note = _notes(context).select_for_update().filter(note_id=context.body["id"]).first()
        if note is None:
            raise _missing(context)
        for name, value in changes.items():
            setattr(note, name, value)
        note.save(update_fields=[*changes, "updated_at"])
        change_announce(service="notes", account_id=context.account_id, kind="update", record=note.as_dict())
    return {"note": note.as_dict()}


def delete(context: CallContext) -> dict[str, Any]:
    with transaction.atomic():
        deleted, _ = _notes(context).filter(note_id=context.body["id"]).delete()
        if not deleted:
            raise _missing(context)
        change_announce(service="notes", account_id=context.account_id, kind="delete", record={"id": context.body["id"]})
    return {"id": context.body["id"]}


def list_notes(context: CallContext) -> dict[str, Any]:
    """List notes, most recently updated first, a page at a time."""
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 25)
    notes = _notes(context).order_by("-updated_at", "note_id")[offset : offset + limit]
    return {"notes": [note.as_dict() for note in notes]}


def purge_account(account_id: int) -> None:
    Note.objects.filter(account_id=account_id).delete()
