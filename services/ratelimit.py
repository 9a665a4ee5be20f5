"""Per-key and per-account rate limits, checked and counted in one atomic step.

Fixed windows: each key and each account may make ``limit`` calls per window
of ``window_seconds``, counted from the window's start on the clock. With
Redis (production) one Lua script checks both counters and increments both or
neither, so parallel calls cannot overshoot. Without Redis (the embedded
default), an in-process counter does the same for the single web process.

If Redis cannot be reached, each process falls back to its in-process
counters: limits then hold per process instead of across all of them, and the
fallback is logged. Calls are never let through unlimited.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import cache

import redis
import structlog
from django.conf import settings

logger = structlog.get_logger(__name__)

# Both counters are checked first and incremented only if both allow the call.
_SCRIPT = """
local key_count = tonumber(redis.call('GET', KEYS[1]) or '0')
local account_count = tonumber(redis.call('GET', KEYS[2]) or '0')
local key_limit = tonumber(ARGV[1])
local account_limit = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
if key_count >= key_limit or account_count >= account_limit then
  return {0, key_count, account_count}
end
key_count = redis.call('INCR', KEYS[1])
account_count = redis.call('INCR', KEYS[2])
if key_count == 1 then redis.call('EXPIRE', KEYS[1], ttl) end
if account_count == 1 then redis.call('EXPIRE', KEYS[2], ttl) end
return {1, key_count, account_count}
"""


@dataclass(frozen=True, slots=True)
class Limits:
    key_limit: int
    account_limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


def default_limits() -> Limits:
    """Return the platform's default limits, for accounts whose plan sets no rate limit."""
    return Limits(
        key_limit=settings.M3O_RATE_LIMIT_PER_KEY,
        account_limit=settings.M3O_RATE_LIMIT_PER_ACCOUNT,
        window_seconds=settings.M3O_RATE_LIMIT_WINDOW_SECONDS,
    )


def limits_for_plan(rate_limit_per_minute: int | None) -> Limits:
    """Return the limits for an account whose plan allows ``rate_limit_per_minute`` calls (None: the default).

    The plan's figure, scaled to the window, replaces both the per-account
    and the per-key limit, so one key may use all of its account's calls.
    """
    limits = default_limits()
    if rate_limit_per_minute is None:
        return limits
    window = limits.window_seconds
    account_limit = max(-(-rate_limit_per_minute * window // 60), 1)
    return Limits(key_limit=account_limit, account_limit=account_limit, window_seconds=window)


@dataclass(frozen=True, slots=True)
class Window:
    """The Redis counters of the current fixed window, for a caller that counts them in its own script."""

    key_counter: str
    account_counter: str
    reset_seconds: int
    ttl_seconds: int


def current_window(*, key_id: int, account_id: int, limits: Limits) -> Window:
    now = time.time()
    window = int(now // limits.window_seconds)
    return Window(
        key_counter=f"m3o:rl:k:{key_id}:{window}",
        account_counter=f"m3o:rl:a:{account_id}:{window}",
        reset_seconds=max(int((window + 1) * limits.window_seconds - now), 1),
        ttl_seconds=limits.window_seconds + 1,
    )


def decision_from_counts(*, allowed: bool, key_count: int, account_count: int, limits: Limits, reset: int) -> Decision:
    return _decide(allowed, key_count, account_count, limits, reset)


def _decide(allowed: bool, key_count: int, account_count: int, limits: Limits, reset: int) -> Decision:
    key_remaining = max(limits.key_limit - key_count, 0)
    account_remaining = max(limits.account_limit - account_count, 0)
    # Report the limit that is closer to running out.
    if key_remaining <= account_remaining:
        return Decision(allowed, limits.key_limit, key_remaining, reset)
    return Decision(allowed, limits.account_limit, account_remaining, reset)


class LocalRateLimiter:
    """Counters in this process's memory, for one web process or as the Redis fallback."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._window_start = 0
        self._lock = threading.Lock()

    def hit(self, *, key_id: int, account_id: int, limits: Limits) -> Decision:
        now = time.time()
        window_start = int(now // limits.window_seconds) * limits.window_seconds
        reset = max(int(window_start + limits.window_seconds - now), 1)
        key_name, account_name = f"k{key_id}", f"a{account_id}"
        with self._lock:
            if window_start != self._window_start:
                self._counts.clear()
                self._window_start = window_start
            key_count = self._counts.get(key_name, 0)
            account_count = self._counts.get(account_name, 0)
            allowed = key_count < limits.key_limit and account_count < limits.account_limit
            if allowed:
                key_count = self._counts[key_name] = key_count + 1
                account_count = self._counts[account_name] = account_count + 1
        return _decide(allowed, key_count, account_count, limits, reset)


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._script = self._client.register_script(_SCRIPT)
        self._fallback = LocalRateLimiter()
        self._warned_at = 0.0

    def hit(self, *, key_id: int, account_id: int, limits: Limits) -> Decision:
        now = time.time()
        window = int(now // limits.window_seconds)
        reset = max(int((window + 1) * limits.window_seconds - now), 1)
        try:
            allowed, key_count, account_count = self._script(
                keys=[f"m3o:rl:k:{key_id}:{window}", f"m3o:rl:a:{account_id}:{window}"],
                args=[limits.key_limit, limits.account_limit, limits.window_seconds + 1],
            )
        except redis.RedisError as exc:
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                logger.warning("Rate limiter unreachable; limiting per process", error=str(exc))
            return self._fallback.hit(key_id=key_id, account_id=account_id, limits=limits)
        return _decide(bool(allowed), int(key_count), int(account_count), limits, reset)


RateLimiter = LocalRateLimiter | RedisRateLimiter


@cache
def get_rate_limiter() -> RateLimiter:
    if settings.REDIS_URL:
        return RedisRateLimiter(settings.REDIS_URL)
    return LocalRateLimiter()
