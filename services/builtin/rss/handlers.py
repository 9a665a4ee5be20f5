from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from m3o_web.tasks import enqueue
from services import outbound
from services.builtin.quota import check_room
from services.builtin.rss.models import Entry, Feed
from services.kit import BadRequest, CallContext, NotFound


def _error_id(context: CallContext) -> str:
    return f"rss.{context.endpoint.lower()}"


def _feeds(account_id: int) -> QuerySet[Feed]:
    return Feed.objects.filter(account_id=account_id)


def _missing(context: CallContext, name: str) -> NotFound:
    return NotFound(f"No feed named {name[:100]!r}.", error_id=_error_id(context))


def add(context: CallContext) -> dict[str, Any]:
    """Add a feed; its first crawl is queued once the feed is stored."""
    from services.builtin.rss.tasks import crawl

    name = context.body["name"]
    url = context.body["url"]
    outbound.check_url(url, error_id=_error_id(context))
    with transaction.atomic():
        check_room(account_id=context.account_id, service="rss", stored=_feeds(context.account_id).count())
        try:
            with transaction.atomic():
                feed = Feed.objects.create(
                    account_id=context.account_id,
                    name=name,
                    url=url,
                    category=context.body.get("category", ""),
                    next_crawl_at=timezone.now(),
                )
        except IntegrityError:
            raise BadRequest(
                f"A feed named {name[:100]!r} already exists. Remove it first to add it again.",
                error_id=_error_id(context),
                fields={"name": "Already exists."},
            ) from None
        # A lost queue message is repaired by crawl_due, which finds the feed due.
        transaction.on_commit(lambda: enqueue(crawl, feed.pk))
    return {"feed": feed.as_dict()}


def remove(context: CallContext) -> dict[str, Any]:
    deleted, _ = _feeds(context.account_id).filter(name=context.body["name"]).delete()
    if not deleted:
        raise _missing(context, context.body["name"])
    return {"name": context.body["name"]}


def list_feeds(context: CallContext) -> dict[str, Any]:
    feeds = _feeds(context.account_id)
    if "category" in context.body:
        feeds = feeds.filter(category=context.body["category"])
    return {"feeds": [feed.as_dict() for feed in feeds.order_by("name")]}


def feed(context: CallContext) -> dict[str, Any]:
    """Return entries, newest first, from one feed, one category or all of the caller's feeds."""
    entries = Entry.objects.filter(account_id=context.account_id).select_related("feed")
    if "name" in context.body:
        if not _feeds(context.account_id).filter(name=context.body["name"]).exists():
            raise _missing(context, context.body["name"])
        entries = entries.filter(feed__name=context.body["name"])
    if "category" in context.body:
        entries = entries.filter(feed__category=context.body["category"])
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 25)
    ordered = entries.order_by(F("published_at").desc(nulls_last=True), "-created_at", "-pk")
    return {"entries": [entry.as_dict() for entry in ordered[offset : offset + limit]]}


def purge_account(account_id: int) -> None:
    _feeds(account_id).delete()
