"""API key authentication for the gateway, with an in-process cache.

A key seen in the last minute is answered from memory: no database query and
no database write per call. Each call still reads one shared value, the auth
epoch, from the cache (Redis in production). Every change that can stop a key
(revocation, rotation, expiry, scopes, account status) sets a new epoch after
its transaction commits, so every process drops its cached keys and the
change applies on the very next call everywhere.

If the shared value is lost (Redis restarted), it reads as missing, which
differs from whatever a process cached, so the processes reload. If Redis is
unreachable, keys are read from the database on every call.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.utils import timezone

from accounts.keys import hash_key, looks_like_key
from accounts.models import Account, ApiKey

logger = structlog.get_logger(__name__)

EPOCH_CACHE_KEY = "m3o:auth-epoch"
TOUCH_CACHE_KEY = "m3o:key-touched:{key_id}"
CACHE_TTL_SECONDS = 60
MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class KeyState:
    """The state of a key that the gateway checks on each call, detached from the ORM."""

    key_id: int
    account_id: int
    prefix: str
    scopes: frozenset[str]
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    account_active: bool
    account_status_message: str

    @classmethod
    def from_key(cls, key: ApiKey) -> KeyState:
        return cls(
            key_id=key.pk,
            account_id=key.account_id,
            prefix=key.prefix,
            scopes=frozenset(key.scopes),
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            account_active=key.account.status == Account.Status.ACTIVE,
            account_status_message=key.account.status_message,
        )

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def allows_service(self, slug: str) -> bool:
        return ApiKey.ALL_SERVICES in self.scopes or slug in self.scopes


@dataclass(slots=True)
class _Entry:
    state: KeyState
    epoch: str | None
    loaded_at: float
    touched_at: float


_unreachable = object()


class KeyCache:
    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def authenticate(self, secret: str, *, epochs: Epochs | None = None) -> KeyState | None:
        """Return the state of the key with this secret, or None if there is no such key.

        ``epochs`` is the caller's read of the shared epochs (``epochs_read``),
        so one round trip serves every in-process cache of a call.
        """
        if not looks_like_key(secret):
            return None
        key_hash = hash_key(secret)
        now = time.monotonic()
        epoch = _read_epoch() if epochs is None else epochs.get(EPOCH_CACHE_KEY)

        entry = self._entries.get(key_hash)
        if entry is None or epoch is _unreachable or entry.epoch != epoch or now - entry.loaded_at >= CACHE_TTL_SECONDS:
            # The epoch was read before the row, so a change committed after
            # this read sets a newer epoch and the next call reloads.
            key = ApiKey.objects.select_related("account").filter(key_hash=key_hash).first()
            if key is None:
                return None
            entry = _Entry(
                state=KeyState.from_key(key),
                epoch=None if epoch is _unreachable else epoch,  # type: ignore[arg-type]
                loaded_at=now,
                touched_at=_monotonic_age(key.last_used_at, now),
            )
            if epoch is not _unreachable:
                self._store(key_hash, entry)

        self._touch(entry, now)
        return entry.state

    def _store(self, key_hash: str, entry: _Entry) -> None:
        with self._lock:
            self._entries[key_hash] = entry
            self._entries.move_to_end(key_hash)
            while len(self._entries) > MAX_CACHED_KEYS:
                self._entries.popitem(last=False)

    def _touch(self, entry: _Entry, now: float) -> None:
        """Write last_used_at at most once per resolution window per key, across processes."""
        resolution = settings.M3O_KEY_LAST_USED_RESOLUTION_SECONDS
        if now - entry.touched_at < resolution:
            return
        entry.touched_at = now
        try:
            claimed = cache.add(TOUCH_CACHE_KEY.format(key_id=entry.state.key_id), 1, timeout=max(resolution, 1))
        except Exception:
            claimed = True
        if claimed:
            ApiKey.objects.filter(pk=entry.state.key_id).update(last_used_at=timezone.now())


def _monotonic_age(last_used_at: dt.datetime | None, now: float) -> float:
    """Translate a stored last-used time to the monotonic clock, to start the write window from it."""
    if last_used_at is None:
        return float("-inf")
    return now - (timezone.now() - last_used_at).total_seconds()


_warned_at = 0.0


class Epochs:
    """Shared epochs read in one round trip; ``get`` answers the unreachable marker if the read failed.

    On Redis the values are the raw stored bytes, so that a Redis script can
    compare them too (``redis_keys``); they are opaque: only equality matters.
    """

    def __init__(self, values: dict[str, Any] | None) -> None:
        self._values = values

    @property
    def reachable(self) -> bool:
        return self._values is not None

    def get(self, name: str) -> object:
        if self._values is None:
            return _unreachable
        return self._values.get(name)


def epochs_redis() -> Any | None:
    """The shared cache's Redis client, or None when the cache is not Redis."""
    if not isinstance(cache, RedisCache):
        return None
    return cache._cache.get_client(write=False)


def epoch_redis_key(name: str) -> str:
    return cache.make_and_validate_key(name)


def epochs_read(*names: str) -> Epochs:
    """Read the named epochs from the shared cache at once (one MGET on Redis)."""
    global _warned_at
    try:
        client = epochs_redis()
        if client is None:
            return Epochs(cache.get_many(names))
        return Epochs(dict(zip(names, client.mget([epoch_redis_key(name) for name in names]))))
    except Exception as exc:
        if time.monotonic() - _warned_at > 60:
            _warned_at = time.monotonic()
            logger.warning("Cache epochs unreadable; reading from the database", error=str(exc))
        return Epochs(None)


def epoch_bump(name: str) -> None:
    """Make every process drop what it cached under epoch ``name``, now and once the transaction commits.

    See ``auth_epoch_bump`` for why twice.
    """

    def bump() -> None:
        try:
            cache.set(name, uuid.uuid4().hex, timeout=None)
        except Exception as exc:
            logger.error("Cache epoch not updated; cached entries expire on their own", epoch=name, error=str(exc))

    bump()
    transaction.on_commit(bump)


V = TypeVar("V")


@dataclass(slots=True)
class _Cached(Generic[V]):
    value: V
    epoch: object
    expires_at: float


class EpochCache(Generic[V]):
    """A small in-process cache whose entries live until their epoch changes or they expire.

    A loader returns the value and how long it may live at most (``None``:
    the cache's own lifetime). An unreachable epoch stores nothing, so every
    call reads the database until the shared cache is back.
    """

    def __init__(self, *, epoch_name: str, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.epoch_name = epoch_name
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: OrderedDict[Hashable, _Cached[V]] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key: Hashable, *, epochs: Epochs, load: Callable[[], tuple[V, float | None]]) -> V:
        epoch = epochs.get(self.epoch_name)
        # Wall-clock time, since lifetimes end at a date (a scheduled price change).
        now = time.time()
        entry = self._entries.get(key)
        if entry is not None and epoch is not _unreachable and entry.epoch == epoch and now < entry.expires_at:
            return entry.value
        # The epoch was read before the database, so a change committed after
        # this read sets a newer epoch and the next call reloads.
        value, lifetime = load()
        if epoch is not _unreachable:
            ttl = self._ttl if lifetime is None else min(self._ttl, lifetime)
            with self._lock:
                self._entries[key] = _Cached(value, epoch, now + ttl)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
        return value


def _read_epoch() -> object:
    return epochs_read(EPOCH_CACHE_KEY).get(EPOCH_CACHE_KEY)


def _set_new_epoch() -> None:
    try:
        cache.set(EPOCH_CACHE_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:
        logger.error("Auth epoch not updated, so cached keys may live up to a minute", error=str(exc))
    key_cache.clear()


def auth_epoch_bump() -> None:
    """Make every process reload cached keys, now and again once the current transaction commits.

    A process that reloads between the two bumps reads the row as it was before
    the change, which is still in force until the commit. The second bump then
    makes it reload the changed row.
    """
    _set_new_epoch()
    transaction.on_commit(_set_new_epoch)


key_cache = KeyCache()
