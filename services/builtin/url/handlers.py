from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from services.builtin.quota import check_room
from services.builtin.url.models import ShortURL
from services.kit import BadRequest, CallContext, NotFound

GENERATED_ID_ATTEMPTS = 5


def _error_id(context: CallContext) -> str:
    return f"url.{context.endpoint.lower()}"


def _links(context: CallContext) -> QuerySet[ShortURL]:
    return ShortURL.objects.filter(account_id=context.account_id)


def _as_dict(link: ShortURL) -> dict[str, Any]:
    return {
        "id": link.short_id,
        "shortURL": f"{settings.SITE_URL}/u/{link.short_id}",
        "destinationURL": link.destination,
        "hits": link.hits,
        "created": link.created_at.isoformat(),
    }


def _destination(context: CallContext) -> str:
    """Return the request's destinationURL, raising BadRequest unless it is an absolute http(s) URL."""
    url = context.body["destinationURL"]
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or any(c.isspace() for c in url):
        raise BadRequest(
            f"Invalid destinationURL {url[:200]!r}: give an absolute http:// or https:// URL without spaces.",
            error_id=_error_id(context),
            fields={"destinationURL": "Must be an absolute http or https URL."},
        )
    return url


def _missing(context: CallContext) -> NotFound:
    return NotFound(f"No short link with id {context.body['id'][:100]!r}.", error_id=_error_id(context))


def _insert(context: CallContext, short_id: str, destination: str) -> ShortURL | None:
    """Insert a link, or return None when the id is already in use by any account."""
    try:
        with transaction.atomic():
            return ShortURL.objects.create(account_id=context.account_id, short_id=short_id, destination=destination)
    except IntegrityError:
        return None


def shorten(context: CallContext) -> dict[str, Any]:
    """Create a link under a new random id."""
    destination = _destination(context)
    check_room(account_id=context.account_id, service="url", stored=_links(context).count())
    for _ in range(GENERATED_ID_ATTEMPTS):
        link = _insert(context, secrets.token_urlsafe(6), destination)
        if link is not None:
            return {"url": _as_dict(link)}
    # 48 random bits make even one collision unlikely until there are millions of links.
    raise RuntimeError(f"No free short id after {GENERATED_ID_ATTEMPTS} attempts.")


def create(context: CallContext) -> dict[str, Any]:
    """Create a link under a chosen id, or a random one when none is given."""
    if "id" not in context.body:
        return shorten(context)
    destination = _destination(context)
    check_room(account_id=context.account_id, service="url", stored=_links(context).count())
    link = _insert(context, context.body["id"], destination)
    if link is None:
        raise BadRequest(
            f"The short id {context.body['id']!r} is taken. Choose another.",
            error_id=_error_id(context),
            fields={"id": "Already taken."},
        )
    return {"url": _as_dict(link)}


def resolve(context: CallContext) -> dict[str, Any]:
    """Return a link's destination and visit count, for one of the account's own ids."""
    link = _links(context).filter(short_id=context.body["id"]).first()
    if link is None:
        raise _missing(context)
    return {"url": _as_dict(link)}


def update(context: CallContext) -> dict[str, Any]:
    destination = _destination(context)
    with transaction.atomic():
        link = _links(context).select_for_update().filter(short_id=context.body["id"]).first()
        if link is None:
            raise _missing(context)
        link.destination = destination
        link.save(update_fields=["destination", "updated_at"])
    return {"url": _as_dict(link)}


def delete(context: CallContext) -> dict[str, Any]:
    deleted, _ = _links(context).filter(short_id=context.body["id"]).delete()
    if not deleted:
        raise _missing(context)
    return {"id": context.body["id"]}


def list_links(context: CallContext) -> dict[str, Any]:
    """List links, newest first, a page at a time."""
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 25)
    links = _links(context).order_by("-created_at", "short_id")[offset : offset + limit]
    return {"urls": [_as_dict(link) for link in links]}


def purge_account(account_id: int) -> None:
    ShortURL.objects.filter(account_id=account_id).delete()
