"""Checks and sizes shared by the data services that store callers' JSON.

JSON can carry strings that PostgreSQL cannot store (a NUL character) or that
are not valid UTF-8 (a lone surrogate such as "\\ud800"). Such a value must be
a 400 naming the field, never a database error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.apps import apps
from django.db.models import Count, QuerySet, Sum

from services.builtin.quota import check_room
from services.kit import BadRequest
from services.payload import unstorable_path


def reject_unstorable(body: dict[str, Any], *, error_id: str) -> None:
    """Raise BadRequest when any string in the body contains a NUL character or a lone surrogate."""
    path = unstorable_path(body, "")
    if path is not None:
        raise BadRequest(
            f"Invalid {path!r}: it contains a NUL character or invalid Unicode, which cannot be stored. Remove it.",
            error_id=error_id,
            fields={path: "Contains a NUL character or invalid Unicode."},
        )


def json_size(value: Any) -> int:
    """Return the size in bytes of the value as compact UTF-8 JSON, the figure byte caps count."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def check_write_room(
    *,
    rows: QuerySet[Any] | Sequence[QuerySet[Any]],
    account_id: int,
    service: str,
    size: int,
    replacing_size: int | None = None,
) -> None:
    """Check the caps before a write of ``size`` bytes, a new row or one replacing a row of ``replacing_size``.

    ``rows`` are the account's rows in the service, each with a ``size_bytes``
    field: one queryset, or one per model where the service stores several
    (chat rooms and messages count against the same caps). A new row counts
    against the row cap. A write that does not grow
    the stored bytes always fits, so that callers can shrink data over a cap.
    Call it inside the transaction that writes: it locks the account's row.
    """
    if replacing_size is not None and size <= replacing_size:
        return
    # Race: two writes could both count the rows below the cap and both insert. Locking the
    # account's row until the caller's transaction ends makes the count and the write one step
    # per account. NO KEY UPDATE still lets other transactions insert rows that refer to it.
    account_model = apps.get_model("accounts", "Account")
    list(account_model.objects.select_for_update(no_key=True).filter(pk=account_id).values_list("pk", flat=True))
    stored_rows = 0
    stored_bytes = -(replacing_size or 0)
    for queryset in [rows] if isinstance(rows, QuerySet) else rows:
        totals = queryset.aggregate(count=Count("pk"), total=Sum("size_bytes"))
        stored_rows += totals["count"]
        stored_bytes += totals["total"] or 0
    check_room(
        account_id=account_id,
        service=service,
        stored=stored_rows,
        adding=0 if replacing_size is not None else 1,
        stored_bytes=stored_bytes,
        adding_bytes=size,
    )
