"""One-time codes kept in Django's cache, keyed by account and a SHA-256 of the caller's id.

NOTE: without REDIS_URL the cache is in-process memory, so a code made by
one server process cannot be validated by another. Set REDIS_URL when
serving from more than one process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from services.kit import CallContext, account_cache_key, forget_account_cache

# Wrong guesses allowed per code. The attempt after them discards the code, even if it is correct.
MAX_ATTEMPTS = 5


def _keys(account_id: int, user_id: str) -> tuple[str, str]:
    digest = hashlib.sha256(user_id.encode()).hexdigest()
    return account_cache_key("otp", account_id, digest, "code"), account_cache_key("otp", account_id, digest, "attempts")


def purge_account(account_id: int) -> None:
    forget_account_cache("otp", account_id)


def generate(context: CallContext) -> dict[str, Any]:
    size = context.body.get("size", 6)
    expiry = context.body.get("expiry", 60)
    code_key, attempts_key = _keys(context.account_id, context.body["id"])

    code = "".join(secrets.choice("0123456789") for _ in range(size))
    # A new code replaces the previous one for this id and resets its attempt count.
    # The expiry time is stored with the code and checked on the platform's
    # clock; the cache timeout only clears the entry afterwards.
    expires_at = timezone.now().timestamp() + expiry
    cache.set(code_key, f"{expires_at}:{code}", timeout=expiry + 1)
    cache.set(attempts_key, 0, timeout=expiry)
    return {"code": code}


def validate(context: CallContext) -> dict[str, Any]:
    code_key, attempts_key = _keys(context.account_id, context.body["id"])
    try:
        # incr is atomic in Redis, so parallel guesses cannot share one attempt.
        attempts = cache.incr(attempts_key)
    except ValueError:
        return {"success": False}
    if attempts > MAX_ATTEMPTS:
        cache.delete_many([code_key, attempts_key])
        return {"success": False}

    stored = cache.get(code_key)
    if stored is None:
        return {"success": False}
    expires_at, _, expected = stored.partition(":")
    if timezone.now().timestamp() >= float(expires_at):
        return {"success": False}
    if not hmac.compare_digest(expected, context.body["code"]):
        return {"success": False}
    # delete returns False if a parallel request already used the code, so each code succeeds once.
    if not cache.delete(code_key):
        return {"success": False}
    cache.delete(attempts_key)
    return {"success": True}
