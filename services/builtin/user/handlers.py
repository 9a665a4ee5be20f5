"""The user service's handlers: end-user accounts, sessions and emailed tokens.

Secrets (session ids, verification and magic-link tokens, reset codes) are random,
returned or emailed once, and stored only as SHA-256 hashes: they are long and random,
so a fast hash is enough, as for the platform's API keys. Passwords go through
Django's password hashers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import structlog
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from services.builtin.quota import check_room
from services.builtin.user.models import EndUser, EndUserSession, EndUserToken
from services.kit import BadRequest, CallContext, NotFound, ServiceUnavailable

logger = structlog.get_logger(__name__)

SESSION_LIFETIME = dt.timedelta(days=7)
LINK_PLACEHOLDER = "$micro_verification_link"
CODE_PLACEHOLDER = "$code"
# Reset codes are typed by people: 10 characters without look-alikes, about 50 random bits.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
DEFAULT_EXPIRY_SECONDS = {
    EndUserToken.Purpose.VERIFY_EMAIL: 24 * 3600,
    EndUserToken.Purpose.RESET_PASSWORD: 3600,
    EndUserToken.Purpose.MAGIC_LINK: 900,
}
INVALID_TOKEN = "The token is invalid, expired or already used."


def _error_id(context: CallContext) -> str:
    return f"user.{context.endpoint.lower()}"


def _users(context: CallContext) -> QuerySet[EndUser]:
    return EndUser.objects.filter(account_id=context.account_id)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _missing_user(context: CallContext, field: str) -> NotFound:
    return NotFound(
        f"No user with {field} {str(context.body[field])[:100]!r}.", error_id=_error_id(context), fields={field: "No such user."}
    )


def _user_by(context: CallContext, field: str, *, lock: bool = False) -> EndUser:
    """Return the account's user whose id, username or email (case-insensitive) is the body's field."""
    value = context.body[field]
    users = _users(context).select_for_update() if lock else _users(context)
    lookup = {"id": Q(user_id=value), "userId": Q(user_id=value), "username": Q(username__iexact=value), "email": Q(email__iexact=value)}
    user = users.filter(lookup[field]).first()
    if user is None:
        raise _missing_user(context, field)
    return user


def _email(context: CallContext, field: str = "email") -> str:
    address = context.body[field].strip()
    try:
        validate_email(address)
    except ValidationError:
        raise BadRequest(
            f"{address[:100]!r} is not a valid email address.", error_id=_error_id(context), fields={field: "Not a valid email address."}
        ) from None
    return address


def _passwords_match(context: CallContext, new: str, confirm: str) -> None:
    if context.body[confirm] != context.body[new]:
        raise BadRequest(
            f"{new} and {confirm} differ; type the same new password in both.",
            error_id=_error_id(context),
            fields={confirm: f"Differs from {new}."},
        )


def _taken(context: CallContext, user: EndUser) -> BadRequest:
    """Build the error for a write that hit a uniqueness constraint, naming the value another user has."""
    others = _users(context).exclude(pk=user.pk)
    for field, lookup in (
        ("id", Q(user_id=user.user_id)),
        ("username", Q(username__iexact=user.username)),
        ("email", Q(email__iexact=user.email)),
    ):
        if others.filter(lookup).exists():
            return BadRequest(
                f"Another user already has this {field}.", error_id=_error_id(context), fields={field: "Already taken."}
            )
    return BadRequest("Another user already has this id, username or email.", error_id=_error_id(context))


def _start_session(user: EndUser) -> dict[str, Any]:
    session_id = secrets.token_urlsafe(32)
    session = EndUserSession.objects.create(
        account_id=user.account_id,
        user=user,
        secret_hash=_hash(session_id),
        expires_at=timezone.now() + SESSION_LIFETIME,
    )
    return session.as_dict(session_id)


# Accounts


def create(context: CallContext) -> dict[str, Any]:
    email = _email(context)
    user_id = context.body.get("id") or str(uuid.uuid4())
    password = make_password(context.body["password"])

    with transaction.atomic():
        check_room(account_id=context.account_id, service="user", stored=_users(context).count())
        user = EndUser(
            account_id=context.account_id,
            user_id=user_id,
            username=context.body["username"],
            email=email,
            password=password,
            profile=context.body.get("profile", {}),
        )
        try:
            with transaction.atomic():
                user.save(force_insert=True)
        except IntegrityError:
            raise _taken(context, user) from None
    return {"account": user.as_dict()}


def read(context: CallContext) -> dict[str, Any]:
    given = [field for field in ("id", "username", "email") if field in context.body]
    if len(given) != 1:
        raise BadRequest(
            "Give exactly one of id, username or email.",
            error_id=_error_id(context),
            fields={field: "Give exactly one of id, username or email." for field in given or ["id"]},
        )
    return {"account": _user_by(context, given[0]).as_dict()}


def update(context: CallContext) -> dict[str, Any]:
    """Change the username, email or profile; a new email is unverified until verified again."""
    with transaction.atomic():
        user = _user_by(context, "id", lock=True)
        changed = []
        if "username" in context.body:
            user.username = context.body["username"]
            changed.append("username")
        if "email" in context.body:
            email = _email(context)
            if email.lower() != user.email.lower():
                user.verified, user.verified_at = False, None
                changed += ["verified", "verified_at"]
            user.email = email
            changed.append("email")
        if "profile" in context.body:
            user.profile = context.body["profile"]
            changed.append("profile")
        try:
            with transaction.atomic():
                user.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise _taken(context, user) from None
    return {"account": user.as_dict()}


def delete(context: CallContext) -> dict[str, Any]:
    """Delete a user with their sessions and tokens."""
    deleted, _ = _users(context).filter(user_id=context.body["id"]).delete()
    if not deleted:
        raise _missing_user(context, "id")
    return {"id": context.body["id"]}


def list_users(context: CallContext) -> dict[str, Any]:
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 25)
    users = _users(context).order_by("created_at", "user_id")[offset : offset + limit]
    return {"users": [user.as_dict() for user in users]}


def update_password(context: CallContext) -> dict[str, Any]:
    _passwords_match(context, "newPassword", "confirmPassword")
    with transaction.atomic():
        user = _user_by(context, "userId", lock=True)
        if not check_password(context.body["oldPassword"], user.password):
            raise BadRequest(
                "oldPassword is not the user's current password.",
                error_id=_error_id(context),
                fields={"oldPassword": "Wrong password."},
            )
        user.password = make_password(context.body["newPassword"])
        user.save(update_fields=["password", "updated_at"])
    return {}


# Sessions


def login(context: CallContext) -> dict[str, Any]:
    given = [field for field in ("username", "email") if field in context.body]
    if len(given) != 1:
        raise BadRequest(
            "Give either username or email, with password.",
            error_id=_error_id(context),
            fields={field: "Give either username or email." for field in given or ["username"]},
        )
    field = given[0]
    # An unknown user is a 404, as everywhere in this API, because Read already reveals whether a user exists.
    # A known user with the wrong password is a 400.
    user = _user_by(context, field)
    if not check_password(context.body["password"], user.password):
        raise BadRequest("Wrong password.", error_id=_error_id(context), fields={"password": "Wrong password."})
    return {"session": _start_session(user)}


def _live_sessions(context: CallContext) -> QuerySet[EndUserSession]:
    return EndUserSession.objects.filter(account_id=context.account_id, expires_at__gt=timezone.now())


def read_session(context: CallContext) -> dict[str, Any]:
    session = _live_sessions(context).select_related("user").filter(secret_hash=_hash(context.body["sessionId"])).first()
    if session is None:
        raise NotFound("No such session, or it has expired or ended.", error_id=_error_id(context), fields={"sessionId": "No such session."})
    return {"session": session.as_dict(context.body["sessionId"])}


def logout(context: CallContext) -> dict[str, Any]:
    deleted, _ = EndUserSession.objects.filter(
        account_id=context.account_id, secret_hash=_hash(context.body["sessionId"])
    ).delete()
    if not deleted:
        raise NotFound("No such session, or it has already ended.", error_id=_error_id(context), fields={"sessionId": "No such session."})
    return {}


def logout_all(context: CallContext) -> dict[str, Any]:
    user = _user_by(context, "userId")
    user.sessions.all().delete()
    return {}


# Emailed tokens


def _issue(user: EndUser, purpose: str, secret: str, expiration: int) -> None:
    EndUserToken.objects.create(
        account_id=user.account_id,
        user=user,
        purpose=purpose,
        secret_hash=_hash(secret),
        email=user.email,
        expires_at=timezone.now() + dt.timedelta(seconds=expiration),
    )


def _redeem(context: CallContext, purpose: str, secret: str, user: EndUser | None = None) -> EndUserToken | None:
    """Use up a live token once; None when it is unknown, expired, used, or sent to an address the user no longer has."""
    tokens = EndUserToken.objects.filter(account_id=context.account_id, purpose=purpose, secret_hash=_hash(secret))
    if user is not None:
        tokens = tokens.filter(user=user)
    token = tokens.select_related("user").first()
    if token is None or token.email.lower() != token.user.email.lower():
        return None
    # Conditional UPDATE: of two concurrent uses, only one finds the token unused and unexpired.
    now = timezone.now()
    if not EndUserToken.objects.filter(pk=token.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now):
        return None
    return token


def _link(context: CallContext, field: str, token: str) -> str:
    """Add token=<token> to the caller's http(s) URL."""
    url = context.body[field]
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or any(c.isspace() for c in url):
        raise BadRequest(
            f"Invalid {field} {url[:200]!r}: give an absolute http:// or https:// URL.",
            error_id=_error_id(context),
            fields={field: "Must be an absolute http or https URL."},
        )
    query = f"{parts.query}&{urlencode({'token': token})}" if parts.query else urlencode({"token": token})
    return urlunsplit(parts._replace(query=query))


def _require_placeholder(context: CallContext, placeholder: str) -> None:
    if placeholder not in context.body["textContent"]:
        raise BadRequest(
            f"textContent must contain {placeholder}, which is replaced with the user's {('code' if placeholder == CODE_PLACEHOLDER else 'link')}.",
            error_id=_error_id(context),
            fields={"textContent": f"Must contain {placeholder}."},
        )


def _send(context: CallContext, to: str, text: str) -> None:
    _, sender = parseaddr(settings.DEFAULT_FROM_EMAIL)
    from_name = context.body.get("fromName")
    from_email = formataddr((from_name, sender)) if from_name else settings.DEFAULT_FROM_EMAIL
    message = EmailMessage(subject=context.body["subject"], body=text, from_email=from_email, to=[to])
    try:
        message.send()
    except OSError as error:
        logger.warning("End-user email failed", account_id=context.account_id, endpoint=context.endpoint, error=repr(error))
        raise ServiceUnavailable(
            "The email could not be sent. Nothing was charged; retry shortly.", error_id=_error_id(context)
        ) from None


def _send_token(context: CallContext, purpose: str, *, placeholder: str, secret: str, replacement: str, user: EndUser) -> None:
    expiration = context.body.get("expiration", DEFAULT_EXPIRY_SECONDS[purpose])
    # The token is committed before the email leaves, so the link works as soon as it arrives.
    with transaction.atomic():
        _issue(user, purpose, secret, expiration)
    _send(context, user.email, context.body["textContent"].replace(placeholder, replacement))


def send_verification_email(context: CallContext) -> dict[str, Any]:
    _require_placeholder(context, LINK_PLACEHOLDER)
    user = _user_by(context, "email")
    token = secrets.token_urlsafe(32)
    link = _link(context, "redirectUrl", token)
    _send_token(context, EndUserToken.Purpose.VERIFY_EMAIL, placeholder=LINK_PLACEHOLDER, secret=token, replacement=link, user=user)
    return {}


def verify_email(context: CallContext) -> dict[str, Any]:
    with transaction.atomic():
        token = _redeem(context, EndUserToken.Purpose.VERIFY_EMAIL, context.body["token"])
        if token is None:
            raise NotFound(INVALID_TOKEN, error_id=_error_id(context), fields={"token": INVALID_TOKEN})
        user = token.user
        if not user.verified:
            user.verified, user.verified_at = True, timezone.now()
            user.save(update_fields=["verified", "verified_at", "updated_at"])
    return {"account": user.as_dict()}


def send_password_reset_email(context: CallContext) -> dict[str, Any]:
    _require_placeholder(context, CODE_PLACEHOLDER)
    user = _user_by(context, "email")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    _send_token(context, EndUserToken.Purpose.RESET_PASSWORD, placeholder=CODE_PLACEHOLDER, secret=code, replacement=code, user=user)
    return {}


def reset_password(context: CallContext) -> dict[str, Any]:
    """Set a new password with an emailed code, and end every session of the user."""
    _passwords_match(context, "newPassword", "confirmPassword")
    with transaction.atomic():
        user = _user_by(context, "email", lock=True)
        code = context.body["code"].strip().upper()
        if _redeem(context, EndUserToken.Purpose.RESET_PASSWORD, code, user=user) is None:
            raise BadRequest(
                "The code is wrong, expired or already used.", error_id=_error_id(context), fields={"code": "Wrong, expired or used."}
            )
        user.password = make_password(context.body["newPassword"])
        user.save(update_fields=["password", "updated_at"])
        user.sessions.all().delete()
    return {}


def send_magic_link(context: CallContext) -> dict[str, Any]:
    _require_placeholder(context, LINK_PLACEHOLDER)
    user = _user_by(context, "email")
    token = secrets.token_urlsafe(32)
    link = _link(context, "address", token)
    _send_token(context, EndUserToken.Purpose.MAGIC_LINK, placeholder=LINK_PLACEHOLDER, secret=token, replacement=link, user=user)
    return {}


def verify_token(context: CallContext) -> dict[str, Any]:
    """Sign in with a magic-link token: a new session, and the address counts as verified."""
    with transaction.atomic():
        token = _redeem(context, EndUserToken.Purpose.MAGIC_LINK, context.body["token"])
        if token is None:
            return {"is_valid": False, "message": INVALID_TOKEN, "session": None}
        user = token.user
        if not user.verified:
            user.verified, user.verified_at = True, timezone.now()
            user.save(update_fields=["verified", "verified_at", "updated_at"])
        session = _start_session(user)
    return {"is_valid": True, "message": "", "session": session}


def purge_account(account_id: int) -> None:
    EndUserToken.objects.filter(account_id=account_id).delete()
    EndUserSession.objects.filter(account_id=account_id).delete()
    EndUser.objects.filter(account_id=account_id).delete()
