from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower

from services.builtin.contact.models import DETAIL_FIELDS, Contact
from services.builtin.storable import check_write_room, json_size, reject_unstorable
from services.kit import BadRequest, CallContext, NotFound

BIRTHDAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _error_id(context: CallContext) -> str:
    return f"contact.{context.endpoint.lower()}"


def _contacts(context: CallContext) -> QuerySet[Contact]:
    return Contact.objects.filter(account_id=context.account_id)


def _missing(context: CallContext) -> NotFound:
    return NotFound(f"No contact with id {context.body['id'][:100]!r}.", error_id=_error_id(context))


def _invalid(context: CallContext, field: str, value: str, rule: str) -> BadRequest:
    return BadRequest(f"Invalid {field} {value[:200]!r}: {rule}", error_id=_error_id(context), fields={field: rule})


def _changes(context: CallContext) -> dict[str, Any]:
    """Return the model fields the request sets, checking the values the schema cannot."""
    reject_unstorable(context.body, error_id=_error_id(context))
    changes: dict[str, Any] = {}

    if "name" in context.body:
        if not context.body["name"].strip():
            raise _invalid(context, "name", context.body["name"], "Give the contact a name.")
        changes["name"] = context.body["name"]

    for field, value_field in DETAIL_FIELDS.items():
        if field in context.body:
            changes[field] = [
                {"label": entry.get("label", ""), value_field: entry[value_field]} for entry in context.body[field]
            ]
    for index, email in enumerate(changes.get("emails", [])):
        try:
            validate_email(email["address"])
        except ValidationError:
            rule = "Give an email address such as jane@example.com."
            raise _invalid(context, f"emails[{index}].address", email["address"], rule) from None
    for index, link in enumerate(changes.get("links", [])):
        parts = urlsplit(link["url"])
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or any(c.isspace() for c in link["url"]):
            rule = "Give an absolute http:// or https:// URL without spaces."
            raise _invalid(context, f"links[{index}].url", link["url"], rule)

    if "birthday" in context.body:
        changes["birthday"] = _birthday(context, context.body["birthday"])
    if "note" in context.body:
        changes["note"] = context.body["note"]
    return changes


def _birthday(context: CallContext, value: str) -> dt.date | None:
    if not value:
        return None
    try:
        if not BIRTHDAY.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _invalid(context, "birthday", value, "Give a date as YYYY-MM-DD, or an empty string for none.") from None


def create(context: CallContext) -> dict[str, Any]:
    """Create a contact. Give an id of your own, or get a new UUID."""
    changes = _changes(context)
    contact_id = context.body.get("id") or str(uuid.uuid4())
    contact = Contact(account_id=context.account_id, contact_id=contact_id, **changes)
    contact.size_bytes = json_size(contact.details())

    with transaction.atomic():
        check_write_room(
            rows=_contacts(context), account_id=context.account_id, service="contact", size=contact.size_bytes
        )
        try:
            with transaction.atomic():
                contact.save(force_insert=True)
        except IntegrityError:
            raise BadRequest(
                f"A contact with id {contact_id[:100]!r} already exists. Use Update to change it.",
                error_id=_error_id(context),
                fields={"id": "Already exists."},
            ) from None
    return {"contact": contact.as_dict()}


def read(context: CallContext) -> dict[str, Any]:
    contact = _contacts(context).filter(contact_id=context.body["id"]).first()
    if contact is None:
        raise _missing(context)
    return {"contact": contact.as_dict()}


def update(context: CallContext) -> dict[str, Any]:
    """Change the fields given; a field left out keeps its value, and a list given replaces the old list."""
    changes = _changes(context)

    with transaction.atomic():
        contact = _contacts(context).select_for_update().filter(contact_id=context.body["id"]).first()
        if contact is None:
            raise _missing(context)
        for name, value in changes.items():
            setattr(contact, name, value)
        size = json_size(contact.details())
        check_write_room(
            rows=_contacts(context),
            account_id=context.account_id,
            service="contact",
            size=size,
            replacing_size=contact.size_bytes,
        )
        contact.size_bytes = size
        contact.save(update_fields=[*changes, "size_bytes", "updated_at"])
    return {"contact": contact.as_dict()}


def delete(context: CallContext) -> dict[str, Any]:
    deleted, _ = _contacts(context).filter(contact_id=context.body["id"]).delete()
    if not deleted:
        raise _missing(context)
    return {}


def list_contacts(context: CallContext) -> dict[str, Any]:
    """List contacts by name, ignoring case, a page at a time."""
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 30)
    contacts = _contacts(context).order_by(Lower("name"), "name", "contact_id")[offset : offset + limit]
    return {"contacts": [contact.as_dict() for contact in contacts]}


def purge_account(account_id: int) -> None:
    Contact.objects.filter(account_id=account_id).delete()
