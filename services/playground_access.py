"""Who may run calls in the playground, and the tickets that let a browser open a stream as them.

A playground call replaces the API key with the signed-in member's account
(``playground_caller``). Every other step of the gateway is the same.

A stream cannot carry the CSRF token of a form, so the browser opens one in
two steps. First it asks for a ticket with a same-origin POST that passes
Django's CSRF check and ``with_membership`` (so ``?account=`` chooses the
account). The ticket is signed, lives for TICKET_MAX_AGE_SECONDS, names the
user, the account, the endpoint and a hash of the session key, and can be
redeemed once. Then the browser opens the WebSocket on ``/v1/...`` from the
same origin, offering the ticket as a subprotocol and sending its session
cookie. The transport checks the Origin header, the ticket, that the cookie
is the session the ticket was issued to and that the user is still signed in,
and the membership again, before the stream opens. No API key is ever in the page.
"""

from __future__ import annotations

import secrets
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.authentication import KeyState
from accounts.models import Account, Membership, User
from accounts.permissions import Permission, has_permission
from accounts.services import user_has_verified_email
from catalog.models import Endpoint
from m3o_web.errors import ApiError, Forbidden, Unauthorized

TICKET_SUBPROTOCOL = "m3o-ticket."
TICKET_MAX_AGE_SECONDS = 30
_TICKET_SALT = "m3o.playground.stream-ticket"
_SESSION_HASH_SALT = "m3o.playground.session"
_USED_TICKET_CACHE_KEY = "m3o:playground-ticket-used:{nonce}"
# The signer's separator: base64url and base62 never contain ".", and unlike
# ":" it is allowed in a WebSocket subprotocol name.
_SEPARATOR = "."


def playground_caller(membership: Membership) -> KeyState:
    """Return the key state the gateway checks for a playground call made as this member."""
    account = membership.account
    return KeyState(
        # A negative stand-in id gives each user's playground runs their own rate-limit counter.
        key_id=-membership.user_id,
        account_id=account.pk,
        prefix="playground",
        scopes=frozenset({"*"}),
        expires_at=None,
        revoked_at=None,
        account_active=account.status == Account.Status.ACTIVE,
        account_status_message=account.status_message,
    )


def _role_refusal(membership: Membership) -> ApiError | None:
    if not (has_permission(membership, Permission.PLAYGROUND) and membership.can_manage_keys):
        return Forbidden("Your role in this account cannot make calls. Ask an owner or admin.", error_id="v1.role")
    return None


def _no_longer_member() -> ApiError:
    return Forbidden("You are no longer a member of this account.", error_id="v1.role")


def run_refusal(membership: Membership) -> ApiError | None:
    """Return why this member may not run calls in the playground, or None if they may."""
    refusal = _role_refusal(membership)
    if refusal is not None:
        return refusal
    if not user_has_verified_email(membership.user):
        return Forbidden("Verify your email address before making calls.", error_id="v1.email_unverified")
    return None


def _session_hash(session_key: str) -> str:
    return salted_hmac(_SESSION_HASH_SALT, session_key, algorithm="sha256").hexdigest()


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_TICKET_SALT, sep=_SEPARATOR)


def stream_ticket_issue(*, membership: Membership, session_key: str, endpoint: Endpoint) -> str:
    """Return a single-use ticket to open a stream of ``endpoint`` as this member, from this session."""
    payload = {
        "user": membership.user_id,
        "account": membership.account_id,
        "endpoint": endpoint.pk,
        "session": _session_hash(session_key),
        "nonce": secrets.token_urlsafe(16),
    }
    return _signer().sign_object(payload, compress=True)


def _invalid(detail: str) -> Unauthorized:
    return Unauthorized(f"{detail} Run the stream again from the playground.", error_id="v1.invalid_ticket")


def stream_ticket_redeem(*, ticket: str, session_key: str, endpoint: Endpoint) -> KeyState:
    """Check a ticket offered when a stream opens and return the caller; raise the ApiError otherwise.

    Checked in order: the signature and age, the endpoint, the session the
    ticket was issued to, that the ticket was not used before, that the session
    is still signed in as the ticket's user, and that the user may still run
    calls for the account.
    """
    try:
        payload: dict[str, Any] = _signer().unsign_object(ticket, max_age=TICKET_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise _invalid(f"The stream ticket expired. Tickets are valid for {TICKET_MAX_AGE_SECONDS} seconds.") from None
    except (signing.BadSignature, ValueError):
        raise _invalid("The stream ticket is not valid.") from None
    if payload.get("endpoint") != endpoint.pk:
        raise _invalid("The stream ticket was issued for another endpoint.")
    if not session_key or not constant_time_compare(str(payload.get("session", "")), _session_hash(session_key)):
        raise _invalid("The stream ticket belongs to another session.")
    # Redis's SET NX (or the local cache's add) lets exactly one opening use the ticket.
    if not cache.add(_USED_TICKET_CACHE_KEY.format(nonce=payload.get("nonce")), 1, TICKET_MAX_AGE_SECONDS + 5):
        raise _invalid("The stream ticket was already used.")

    user = _signed_in_user(session_key)
    if user is None or user.pk != payload.get("user"):
        raise Unauthorized("You are signed out. Sign in again to run streams.", error_id="v1.signed_out")
    membership = (
        Membership.objects.select_related("account", "user")
        .filter(user=user, account_id=payload.get("account"))
        .exclude(account__status=Account.Status.CLOSED)
        .first()
    )
    if membership is None:
        raise _no_longer_member()
    refusal = run_refusal(membership)
    if refusal is not None:
        raise refusal
    return playground_caller(membership)


def _signed_in_user(session_key: str) -> User | None:
    """Return the user the session is signed in as, checked as Django checks a request's session."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]
    return user if isinstance(user, User) else None


def playground_callers(callers: list[KeyState]) -> dict[tuple[int, int], KeyState | ApiError]:
    """Re-read the playground callers of open streams in one query, keyed by (stand-in key id, account id).

    Each gets its caller state as it is now, or the error that must stop its
    streams: the member left the account, or their role lost the right to run calls.
    """
    memberships = {
        (membership.user_id, membership.account_id): membership
        for membership in Membership.objects.select_related("account").filter(
            user_id__in={-caller.key_id for caller in callers}, account_id__in={caller.account_id for caller in callers}
        )
    }
    current: dict[tuple[int, int], KeyState | ApiError] = {}
    for caller in callers:
        membership = memberships.get((-caller.key_id, caller.account_id))
        if membership is None or membership.account.status == Account.Status.CLOSED:
            current[caller.key_id, caller.account_id] = _no_longer_member()
        else:
            # Verified email addresses stay verified, so the watchdog re-checks only the role.
            current[caller.key_id, caller.account_id] = _role_refusal(membership) or playground_caller(membership)
    return current
