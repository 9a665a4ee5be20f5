from __future__ import annotations

from typing import Any

from django.db import models


class Feed(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    url = models.CharField(max_length=2048)
    category = models.CharField(max_length=200, blank=True)
    # The next time the feed is due for a crawl; crawl_due moves it on when it queues one.
    next_crawl_at = models.DateTimeField(db_index=True)
    last_crawled_at = models.DateTimeField(null=True, blank=True)
    # The error envelope of the last failed crawl, or None after one that succeeded.
    last_error = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="builtin_rss_unique_feed")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "category": self.category,
            "last_crawled": self.last_crawled_at.isoformat() if self.last_crawled_at else "",
            "last_error": self.last_error or {},
            "created": self.created_at.isoformat(),
        }


class Entry(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="entries")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # The entry's id in the feed, or its link when the feed gives none.
    guid = models.CharField(max_length=1000)
    title = models.CharField(max_length=1000, blank=True)
    link = models.CharField(max_length=2048, blank=True)
    summary = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feed", "guid"], name="builtin_rss_unique_entry")]
        indexes = [models.Index(fields=["account", "-published_at"], name="builtin_rss_entry_recent")]

    def __str__(self) -> str:
        return f"{self.feed_id}:{self.guid}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.guid,
            "feed": self.feed.name,
            "title": self.title,
            "link": self.link,
            "summary": self.summary,
            "published": self.published_at.isoformat() if self.published_at else "",
        }
