from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from services.builtin.db.models import Record
from services.builtin.db.query import QueryError, parse_field, parse_query
from services.builtin.quota import check_room
from services.kit import BadRequest, CallContext, NotFound


def _error_id(context: CallContext) -> str:
    return f"db.{context.endpoint.lower()}"


def _table(context: CallContext, table: str) -> QuerySet[Record]:
    return Record.objects.filter(account_id=context.account_id, table=table)


def _record_id(context: CallContext) -> str:
    """Return the id from the request's id field, else from the record's, else a new UUID."""
    record = context.body.get("record", {})
    record_id = context.body.get("id") or record.get("id")
    if record_id is None:
        return str(uuid.uuid4())
    if not isinstance(record_id, str) or not 1 <= len(record_id) <= 256:
        raise BadRequest(
            "The record's id must be a string of 1 to 256 characters.",
            error_id=_error_id(context),
            fields={"record.id": "Must be a string of 1 to 256 characters."},
        )
    return record_id


def _missing(context: CallContext, table: str, record_id: str) -> NotFound:
    return NotFound(
        f"No record with id {record_id[:100]!r} in table {table[:100]!r}.",
        error_id=_error_id(context),
    )


def _parsed(context: CallContext, name: str, parse: Callable[[str, str], Any]) -> Any:
    """Parse the request field ``name`` against the data column, as a 400 when it is invalid."""
    try:
        return parse(context.body[name], "data")
    except QueryError as exc:
        raise BadRequest(f"Invalid {name}: {exc}", error_id=_error_id(context), fields={name: str(exc)}) from None


def create(context: CallContext) -> dict[str, Any]:
    table = context.body["table"]
    record_id = _record_id(context)
    data = {**context.body["record"], "id": record_id}

    with transaction.atomic():
        check_room(account_id=context.account_id, service="db", stored=Record.objects.filter(account_id=context.account_id).count())
        try:
            with transaction.atomic():
                Record.objects.create(account_id=context.account_id, table=table, record_id=record_id, data=data)
        except IntegrityError:
            raise BadRequest(
                f"Table {table[:100]!r} already has a record with id {record_id[:100]!r}. Use Update to change it.",
                error_id=_error_id(context),
                fields={"id": "Already exists."},
            ) from None
    return {"id": record_id}


def read(context: CallContext) -> dict[str, Any]:
    body = context.body
    records = _table(context, body["table"])

    if "id" in body:
        record = records.filter(record_id=body["id"]).first()
        if record is None:
            raise _missing(context, body["table"], body["id"])
        return {"records": [record.data]}

    if "query" in body:
        condition, aliases = _parsed(context, "query", parse_query)
        records = records.alias(**aliases).filter(condition)
    order_field = _parsed(context, "orderBy", parse_field) if "orderBy" in body else None

    if order_field is not None:
        descending = body.get("order", "asc") == "desc"
        ordering = order_field.desc(nulls_last=True) if descending else order_field.asc(nulls_last=True)
        records = records.order_by(ordering, "record_id")
    else:
        records = records.order_by("created_at", "record_id")

    offset = body.get("offset", 0)
    limit = body.get("limit", 25)
    return {"records": [record.data for record in records[offset : offset + limit]]}


def update(context: CallContext) -> dict[str, Any]:
    """Merge the given fields into a record; fields not given keep their values."""
    table = context.body["table"]
    record_id = context.body.get("id") or context.body["record"].get("id")
    if not isinstance(record_id, str) or not record_id:
        raise BadRequest(
            "Give the id of the record to update, in id or in record.id.",
            error_id=_error_id(context),
            fields={"id": "Missing."},
        )

    with transaction.atomic():
        record = _table(context, table).select_for_update().filter(record_id=record_id).first()
        if record is None:
            raise _missing(context, table, record_id)
        record.data = {**record.data, **context.body["record"], "id": record_id}
        record.save(update_fields=["data", "updated_at"])
    return {"record": record.data}


def delete(context: CallContext) -> dict[str, Any]:
    table, record_id = context.body["table"], context.body["id"]
    deleted, _ = _table(context, table).filter(record_id=record_id).delete()
    if not deleted:
        raise _missing(context, table, record_id)
    return {"id": record_id}


def truncate(context: CallContext) -> dict[str, Any]:
    """Delete every record in a table; a table with no records is not an error."""
    deleted, _ = _table(context, context.body["table"]).delete()
    return {"deleted": deleted}


def drop_table(context: CallContext) -> dict[str, Any]:
    table = context.body["table"]
    deleted, _ = _table(context, table).delete()
    if not deleted:
        raise NotFound(f"No table {table[:100]!r}.", error_id=_error_id(context))
    return {"deleted": deleted}


def count(context: CallContext) -> dict[str, Any]:
    return {"count": _table(context, context.body["table"]).count()}


def _target_exists(context: CallContext, target: str) -> BadRequest:
    return BadRequest(
        f"Table {target[:100]!r} already exists. Drop it first or choose another name.",
        error_id=_error_id(context),
        fields={"to": "Already exists."},
    )


def rename_table(context: CallContext) -> dict[str, Any]:
    source, target = context.body["from"], context.body["to"]
    if source == target:
        raise BadRequest(
            "The old and new table names are the same.", error_id=_error_id(context), fields={"to": "Same as from."}
        )

    with transaction.atomic():
        if _table(context, target).exists():
            raise _target_exists(context, target)
        try:
            with transaction.atomic():
                renamed = _table(context, source).update(table=target)
        except IntegrityError:
            # A concurrent Create put a record into the target table after the check above.
            raise _target_exists(context, target) from None
    if not renamed:
        raise NotFound(f"No table {source[:100]!r}.", error_id=_error_id(context))
    return {"table": target, "records": renamed}


def list_tables(context: CallContext) -> dict[str, Any]:
    tables = Record.objects.filter(account_id=context.account_id).values_list("table", flat=True)
    return {"tables": list(tables.order_by("table").distinct())}


def purge_account(account_id: int) -> None:
    Record.objects.filter(account_id=account_id).delete()
