"""Feed crawls. Both tasks are safe to run twice or concurrently.

crawl_due claims each due feed by moving its next_crawl_at on with a
compare-and-set. crawl stores entries keyed by (feed, guid), so a repeated
crawl adds nothing twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
from typing import Any

import feedparser
import structlog
from celery import shared_task
from django.conf import settings
from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from m3o_web.errors import ApiError, BadGateway
from m3o_web.tasks import enqueue
from services import outbound
from services.builtin.rss.models import Entry, Feed

logger = structlog.get_logger(__name__)

CRAWL_BATCH = 1000
MAX_REDIRECTS = 5
SUMMARY_MAX_CHARS = 10_000
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"


@shared_task
def crawl_due() -> int:
    """Queue a crawl of each feed that is due, and return how many were queued."""
    now = timezone.now()
    due = Feed.objects.filter(next_crawl_at__lte=now).order_by("next_crawl_at").values_list("pk", "next_crawl_at")
    queued = 0
    for pk, due_at in due[:CRAWL_BATCH]:
        later = now + dt.timedelta(seconds=settings.M3O_RSS_CRAWL_INTERVAL_SECONDS)
        if Feed.objects.filter(pk=pk, next_crawl_at=due_at).update(next_crawl_at=later) and enqueue(crawl, pk):
            queued += 1
    return queued


def _published(item: Any) -> dt.datetime | None:
    parsed = item.get("published_parsed") or item.get("updated_parsed")
    if not parsed:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _entries(feed: Feed, body: bytes, content_type: str) -> list[Entry]:
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-type": content_type})
    if parsed.bozo and not parsed.entries:
        raise BadGateway(
            f"The address of feed {feed.name} did not return an RSS or Atom feed "
            f"({type(parsed.get('bozo_exception')).__name__}).",
            error_id="rss.crawl",
        )
    entries = []
    for item in parsed.entries:
        link = str(item.get("link", ""))[:2048]
        guid = str(item.get("id") or link or item.get("title", ""))[:1000]
        if not guid:
            continue
        entries.append(
            Entry(
                feed=feed,
                account_id=feed.account_id,
                guid=guid,
                title=str(item.get("title", ""))[:1000],
                link=link,
                summary=str(item.get("summary", ""))[:SUMMARY_MAX_CHARS],
                published_at=_published(item),
            )
        )
    return entries


@shared_task
def crawl(feed_pk: int) -> str:
    """Fetch one feed through the outbound guard, store its new entries and record the outcome."""
    feed = Feed.objects.filter(pk=feed_pk).first()
    if feed is None:
        return "deleted"
    error: dict | None = None
    try:
        response = outbound.fetch(
            "GET",
            feed.url,
            account_id=feed.account_id,
            error_id="rss.crawl",
            headers={"Accept": ACCEPT},
            max_redirects=MAX_REDIRECTS,
        )
        if not 200 <= response.status < 300:
            raise BadGateway(f"The address of feed {feed.name} returned HTTP {response.status}.", error_id="rss.crawl")
        content_type = next((value for name, value in response.headers if name.lower() == "content-type"), "")
        entries = _entries(feed, response.body, content_type)
        try:
            Entry.objects.bulk_create(entries, ignore_conflicts=True)
        except IntegrityError:  # the feed was removed during the crawl
            return "deleted"
        _prune(feed)
    except ApiError as exc:
        error = exc.envelope()
    Feed.objects.filter(pk=feed_pk).update(last_crawled_at=timezone.now(), last_error=error)
    if error:
        logger.info("Feed crawl failed", feed=feed_pk, error_id=error["id"])
        return "failed"
    return "ok"


def _prune(feed: Feed) -> None:
    """Keep the newest M3O_RSS_MAX_ENTRIES_PER_FEED entries of the feed."""
    keep = settings.M3O_RSS_MAX_ENTRIES_PER_FEED

    stale = Entry.objects.filter(feed=feed).order_by(F("published_at").desc(nulls_last=True), "-created_at", "-pk")
    stale_pks = list(stale.values_list("pk", flat=True)[keep:])
    if stale_pks:
        Entry.objects.filter(pk__in=stale_pks).delete()
