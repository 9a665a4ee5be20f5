from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from services.builtin.lists.models import ItemList
from services.builtin.storable import check_write_room, json_size, reject_unstorable
from services.kit import BadRequest, CallContext, NotFound
from services.streaming.changes import change_announce


def _error_id(context: CallContext) -> str:
    return f"lists.{context.endpoint.lower()}"


def _lists(context: CallContext) -> QuerySet[ItemList]:
    return ItemList.objects.filter(account_id=context.account_id)


def _missing(context: CallContext, list_id: str) -> NotFound:
    return NotFound(f"No list with id {list_id[:100]!r}.", error_id=_error_id(context))


def _size(name: str, items: list[str]) -> int:
    return json_size({"name": name, "items": items})


def create(context: CallContext) -> dict[str, Any]:
    """Create a list with a name, items or both. Give an id of your own, or get a new UUID."""
    reject_unstorable(context.body, error_id=_error_id(context))
    name = context.body.get("name", "")
    items = context.body.get("items", [])
    if not name and not items:
        raise BadRequest(
            "Give the list a name, at least one item, or both.",
            error_id=_error_id(context),
            fields={"name": "Give a name or at least one item."},
        )
    list_id = context.body.get("id") or str(uuid.uuid4())
    size = _size(name, items)

    with transaction.atomic():
        check_write_room(rows=_lists(context), account_id=context.account_id, service="lists", size=size)
        try:
            with transaction.atomic():
                item_list = ItemList.objects.create(
                    account_id=context.account_id, list_id=list_id, name=name, items=items, size_bytes=size
                )
        except IntegrityError:
            raise BadRequest(
                f"A list with id {list_id[:100]!r} already exists. Use Update to change it.",
                error_id=_error_id(context),
                fields={"id": "Already exists."},
            ) from None
        change_announce(service="lists", account_id=context.account_id, kind="create", record=item_list.as_dict())
    return {"list": item_list.as_dict()}


def read(context: CallContext) -> dict[str, Any]:
    item_list = _lists(context).filter(list_id=context.body["id"]).first()
    if item_list is None:
        raise _missing(context, context.body["id"])
    return {"list": item_list.as_dict()}


def update(context: CallContext) -> dict[str, Any]:
    """Change a list's name, its items or both; a field left out keeps its value, items are replaced whole."""
    reject_unstorable(context.body, error_id=_error_id(context))
    requested_list = context.body["list"]
    changes = {name: requested_list[name] for name in ("name", "items") if name in requested_list}

    with transaction.atomic():
        item_list = _lists(context).select_for_update().filter(list_id=requested_list["id"]).first()
        if item_list is None:
            raise _missing(context, requested_list["id"])
        for name, value in changes.items():
            setattr(item_list, name, value)
        size = _size(item_list.name, item_list.items)
        check_write_room(
            rows=_lists(context),
            account_id=context.account_id,
            service="lists",
            size=size,
            replacing_size=item_list.size_bytes,
        )
        item_list.size_bytes = size
        item_list.save(update_fields=[*changes, "size_bytes", "updated_at"])
        change_announce(service="lists", account_id=context.account_id, kind="update", record=item_list.as_dict())
    return {"list": item_list.as_dict()}


def delete(context: CallContext) -> dict[str, Any]:
    """Delete a list and return it as it was."""
    with transaction.atomic():
        item_list = _lists(context).select_for_update().filter(list_id=context.body["id"]).first()
        if item_list is None:
            raise _missing(context, context.body["id"])
        deleted = item_list.as_dict()
        item_list.delete()
        change_announce(service="lists", account_id=context.account_id, kind="delete", record=deleted)
    return {"list": deleted}


def list_lists(context: CallContext) -> dict[str, Any]:
    """List the lists, most recently updated first, a page at a time."""
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 25)
    lists = _lists(context).order_by("-updated_at", "list_id")[offset : offset + limit]
    return {"lists": [item_list.as_dict() for item_list in lists]}


def purge_account(account_id: int) -> None:
    ItemList.objects.filter(account_id=account_id).delete()
