from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from services.builtin.cache.models import CacheEntry
from services.builtin.quota import check_room
from services.kit import BadRequest, CallContext, NotFound


def _error_id(context: CallContext) -> str:
    return f"cache.{context.endpoint.lower()}"


def _live(account_id: int) -> QuerySet[CacheEntry]:
    return CacheEntry.objects.filter(account_id=account_id).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )


def _is_expired(entry: CacheEntry) -> bool:
    return entry.expires_at is not None and entry.expires_at <= timezone.now()


def _seconds_left(entry: CacheEntry) -> int:
    if entry.expires_at is None:
        return 0
    return max(1, int((entry.expires_at - timezone.now()).total_seconds()))


def _make_room(context: CallContext) -> None:
    """Drop the account's expired entries, then raise Forbidden if no row is free."""
    now = timezone.now()
    CacheEntry.objects.filter(account_id=context.account_id, expires_at__lte=now).delete()
    check_room(account_id=context.account_id, service="cache", stored=CacheEntry.objects.filter(account_id=context.account_id).count())


def set_value(context: CallContext) -> dict[str, Any]:
    """Store a value under a key, replacing any earlier value; ttl 0 keeps it until deleted."""
    key = context.body["key"]
    ttl = context.body.get("ttl", 0)
    expires_at = timezone.now() + timedelta(seconds=ttl) if ttl else None

    with transaction.atomic():
        if not CacheEntry.objects.filter(account_id=context.account_id, key=key).exists():
            _make_room(context)
        CacheEntry.objects.update_or_create(
            account_id=context.account_id,
            key=key,
            defaults={"value": context.body["value"], "expires_at": expires_at},
        )
    return {"key": key, "ttl": ttl}


def get_value(context: CallContext) -> dict[str, Any]:
    key = context.body["key"]
    entry = _live(context.account_id).filter(key=key).first()
    if entry is None:
        raise NotFound(f"No cache entry with key {key[:100]!r}, or it has expired.", error_id=_error_id(context))
    return {"key": key, "value": entry.value, "ttl": _seconds_left(entry)}


def delete_value(context: CallContext) -> dict[str, Any]:
    key = context.body["key"]
    deleted, _ = _live(context.account_id).filter(key=key).delete()
    if not deleted:
        raise NotFound(f"No cache entry with key {key[:100]!r}, or it has expired.", error_id=_error_id(context))
    return {"key": key}


def _locked_entry(context: CallContext, key: str) -> CacheEntry:
    """Return the entry for ``key`` locked for update, created as "0" when missing or expired."""
    entry = CacheEntry.objects.select_for_update().filter(account_id=context.account_id, key=key).first()
    if entry is None:
        _make_room(context)
        try:
            with transaction.atomic():
                return CacheEntry.objects.create(account_id=context.account_id, key=key, value="0")
        except IntegrityError:
            # A concurrent call created the entry between the select and the insert.
            return CacheEntry.objects.select_for_update().get(account_id=context.account_id, key=key)
    if _is_expired(entry):
        entry.value, entry.expires_at = "0", None
    return entry


def _add(context: CallContext, sign: int) -> dict[str, Any]:
    key = context.body["key"]
    delta = context.body.get("value", 1)

    with transaction.atomic():
        entry = _locked_entry(context, key)
        try:
            current = int(entry.value)
        except ValueError:
            raise BadRequest(
                f"The value under key {key[:100]!r} is not an integer, so it cannot be incremented or decremented.",
                error_id=_error_id(context),
                fields={"key": "Holds a value that is not an integer."},
            ) from None
        entry.value = str(current + sign * delta)
        entry.save(update_fields=["value", "expires_at", "updated_at"])
    return {"key": key, "value": current + sign * delta}


def increment(context: CallContext) -> dict[str, Any]:
    """Add to the integer under a key, which counts as 0 when the key is missing or expired."""
    return _add(context, 1)


def decrement(context: CallContext) -> dict[str, Any]:
    """Subtract from the integer under a key, which counts as 0 when the key is missing or expired."""
    return _add(context, -1)


def list_keys(context: CallContext) -> dict[str, Any]:
    entries = _live(context.account_id).filter(key__startswith=context.body.get("prefix", ""))
    return {"keys": list(entries.order_by("key").values_list("key", flat=True))}


def purge_account(account_id: int) -> None:
    CacheEntry.objects.filter(account_id=account_id).delete()
