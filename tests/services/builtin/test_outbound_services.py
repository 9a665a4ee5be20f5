"""ping, tunnel, cron and rss against a real site on 127.0.0.1, allowlisted, and refused destinations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.utils import timezone

from services.builtin.cron.models import Job
from services.builtin.cron.tasks import dispatch_due, run_job
from services.builtin.rss.models import Entry, Feed
from services.builtin.rss.tasks import crawl, crawl_due
from services.registry import purge_account
from tests.conftest import Persona
from tests.services.builtin.outbound_fake import FakeSite, fake_site
from tests.services.test_gateway import assert_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(settings: Any) -> Iterator[FakeSite]:
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = ["127.0.0.1"]
    with fake_site() as fake:
        yield fake


@pytest.fixture
def unlisted_site(settings: Any) -> Iterator[FakeSite]:
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = []
    settings.M3O_UPSTREAM_ALLOW_PRIVATE = False
    with fake_site() as fake:
        yield fake


def redirect_to(site: FakeSite, target: str) -> str:
    return f"{site.url}/redirect?to={quote(target, safe='')}"


# --- ping -----------------------------------------------------------------


def test_ping_reports_status_and_latency(site: FakeSite, owner: Persona) -> None:
    response = owner.call("ping", "Url", {"address": f"{site.url}/hello", "method": "HEAD"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == 200
    assert 0 < body["latency_ms"] < 5000
    assert [(seen.method, seen.path) for seen in site.requests] == [("HEAD", "/hello")]


def test_ping_reports_error_status_as_result(site: FakeSite, owner: Persona) -> None:
    response = owner.call("ping", "Url", {"address": f"{site.url}/status/503"})

    assert response.status_code == 200
    assert response.json()["status"] == 503


def test_ping_redirect_is_reported_unless_followed(site: FakeSite, owner: Persona) -> None:
    address = redirect_to(site, f"{site.url}/final")

    assert owner.call("ping", "Url", {"address": address}).json()["status"] == 302
    followed = owner.call("ping", "Url", {"address": address, "follow_redirects": True}).json()

    assert followed["status"] == 200
    assert followed["url"] == f"{site.url}/final"


def test_ping_loopback_refused_without_allowlist(unlisted_site: FakeSite, owner: Persona) -> None:
    before = owner.balance

    body = assert_envelope(owner.call("ping", "Url", {"address": unlisted_site.url}), 502, "ping.url")

    assert "private or reserved address" in body["detail"]
    assert unlisted_site.requests == []
    assert owner.balance == before


@pytest.mark.parametrize("address", ["http://169.254.169.254/latest/meta-data/", "http://localhost:9/"])
def test_ping_metadata_and_private_name_refused(unlisted_site: FakeSite, owner: Persona, address: str) -> None:
    assert_envelope(owner.call("ping", "Url", {"address": address}), 502, "ping.url")


def test_ping_redirect_to_private_address_refused(site: FakeSite, owner: Persona, settings: Any) -> None:
    with fake_site() as victim:
        target = victim.url.replace("127.0.0.1", "localhost")
        response = owner.call("ping", "Url", {"address": redirect_to(site, target), "follow_redirects": True})

        body = assert_envelope(response, 502, "ping.url")
        assert "private or reserved address" in body["detail"]
        assert victim.requests == []


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("ftp://example.com/", "must start with http"),
        ("http://user:pw@example.com/", "user name or password"),
        ("http:///nohost", "has no host"),
        ("http://example.com:99999/", "not a valid URL"),
        ("http://exa mple.com/", "spaces or control characters"),
    ],
)
def test_ping_bad_url_is_400(owner: Persona, address: str, reason: str) -> None:
    body = assert_envelope(owner.call("ping", "Url", {"address": address}), 400, "ping.url")

    assert reason in body["detail"]


def test_ping_slow_site_times_out(site: FakeSite, owner: Persona, settings: Any) -> None:
    settings.M3O_OUTBOUND_TIMEOUT_SECONDS = 1

    assert_envelope(owner.call("ping", "Url", {"address": f"{site.url}/slow?seconds=3"}), 504, "ping.url")


def test_outbound_rate_per_account(site: FakeSite, owner: Persona, outsider: Persona, settings: Any) -> None:
    settings.M3O_OUTBOUND_REQUESTS_PER_MINUTE = 2
    for _ in range(2):
        assert owner.call("ping", "Url", {"address": site.url}).status_code == 200

    response = owner.call("ping", "Url", {"address": site.url})

    assert_envelope(response, 429, "ping.url")
    assert int(response["Retry-After"]) >= 1
    assert len(site.requests) == 2
    assert outsider.call("ping", "Url", {"address": site.url}).status_code == 200


# --- tunnel ---------------------------------------------------------------


def test_tunnel_sends_request_and_returns_response(site: FakeSite, owner: Persona) -> None:
    response = owner.call(
        "tunnel",
        "Send",
        {
            "method": "POST",
            "url": f"{site.url}/api/items?page=2",
            "headers": {"Content-Type": "application/json", "X-Token": "abc", "Connection": "X-Drop", "X-Drop": "1"},
            "body": '{"name": "widget"}',
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == 200
    assert body["body"] == '{"ok": true}'
    assert body["body_encoding"] == "text"
    assert body["headers"]["x-site"] == "fake"
    # Hop-by-hop headers and the site's cookies are not passed back.
    assert not {"set-cookie", "keep-alive", "connection", "content-length"} & set(body["headers"])
    [seen] = site.requests
    assert (seen.method, seen.path, seen.body) == ("POST", "/api/items?page=2", b'{"name": "widget"}')
    assert seen.headers["X-Token"] == "abc"
    assert "X-Drop" not in seen.headers
    # The caller's M3O key never leaves the platform.
    assert owner.secret not in str(seen.headers)


def test_tunnel_binary_body_is_base64(site: FakeSite, owner: Persona) -> None:
    import base64

    body = owner.call("tunnel", "Send", {"method": "GET", "url": f"{site.url}/binary"}).json()

    assert body["body_encoding"] == "base64"
    assert base64.b64decode(body["body"]) == bytes(range(256))


def test_tunnel_response_over_cap_is_502(site: FakeSite, owner: Persona) -> None:
    body = assert_envelope(owner.call("tunnel", "Send", {"method": "GET", "url": f"{site.url}/big"}), 502, "tunnel.send")

    assert "over the limit" in body["detail"]


@pytest.mark.parametrize("headers", [{"X-Evil": "a\r\nInjected: 1"}, {"Bad Name": "x"}])
def test_tunnel_header_injection_is_400(site: FakeSite, owner: Persona, headers: dict) -> None:
    response = owner.call("tunnel", "Send", {"method": "GET", "url": site.url, "headers": headers})

    assert response.status_code == 400
    assert site.requests == []


def test_tunnel_refuses_metadata(unlisted_site: FakeSite, owner: Persona) -> None:
    response = owner.call("tunnel", "Send", {"method": "GET", "url": "http://169.254.169.254/latest/meta-data/"})

    assert_envelope(response, 502, "tunnel.send")


# --- cron -----------------------------------------------------------------


def schedule(persona: Persona, url: str, name: str = "report", interval: int = 60) -> Any:
    return persona.call("cron", "Schedule", {"name": name, "interval": interval, "callback": url})


def test_cron_schedule_list_delete(site: FakeSite, owner: Persona) -> None:
    job = schedule(owner, f"{site.url}/hook").json()["job"]
    assert job["name"] == "report"
    assert job["interval"] == 60
    assert job["last_error"] == {}

    assert [job["name"] for job in owner.call("cron", "Jobs", {}).json()["jobs"]] == ["report"]
    schedule(owner, f"{site.url}/other", interval=120)
    [changed] = owner.call("cron", "Jobs", {}).json()["jobs"]
    assert (changed["interval"], changed["callback"]) == (120, f"{site.url}/other")

    assert owner.call("cron", "Delete", {"name": "report"}).json() == {"name": "report"}
    assert owner.call("cron", "Jobs", {}).json() == {"jobs": []}
    assert_envelope(owner.call("cron", "Delete", {"name": "report"}), 404, "cron.delete")


def test_cron_minimum_interval(site: FakeSite, owner: Persona) -> None:
    body = assert_envelope(schedule(owner, site.url, interval=59), 400, "cron.schedule")

    assert body["fields"] == {"interval": "Must be at least 60."}


def test_cron_job_cap_per_account(site: FakeSite, owner: Persona, settings: Any) -> None:
    settings.M3O_CRON_MAX_JOBS_PER_ACCOUNT = 2
    for name in ("a", "b"):
        assert schedule(owner, site.url, name=name).status_code == 200

    assert_envelope(schedule(owner, site.url, name="c"), 403, "cron.row_limit")
    assert schedule(owner, site.url, name="a", interval=300).status_code == 200  # changing a job is not adding one


def test_cron_refuses_private_callback_when_scheduled(unlisted_site: FakeSite, owner: Persona) -> None:
    body = assert_envelope(schedule(owner, unlisted_site.url), 400, "cron.schedule")

    assert body["fields"] == {"callback": "Must be a public address."}
    assert not Job.objects.exists()


def make_due(name: str = "report") -> Job:
    job = Job.objects.get(name=name)
    job.next_run_at = timezone.now() - dt.timedelta(seconds=1)
    job.save(update_fields=["next_run_at"])
    return job


def test_cron_runs_due_job_once_per_slot(site: FakeSite, owner: Persona) -> None:
    schedule(owner, f"{site.url}/hook")
    job = make_due()
    slot = job.next_run_at

    assert dispatch_due.delay().get() == 1
    assert dispatch_due.delay().get() == 0  # moved on to the next slot
    run_job.delay(job.pk, slot.isoformat())  # a redelivered run

    [seen] = site.requests
    assert (seen.method, seen.path) == ("POST", "/hook")
    assert seen.headers["X-M3O-Delivery"] == f"{job.pk}:{slot.isoformat()}"
    assert b'"job": "report"' in seen.body
    [listed] = owner.call("cron", "Jobs", {}).json()["jobs"]
    assert listed["last_status"] == 200
    assert listed["last_error"] == {}
    assert listed["last_run"]
    job.refresh_from_db()
    assert job.next_run_at > timezone.now()


def test_cron_failed_callback_is_recorded(site: FakeSite, owner: Persona) -> None:
    schedule(owner, f"{site.url}/status/500")
    make_due()

    dispatch_due.delay()

    [listed] = owner.call("cron", "Jobs", {}).json()["jobs"]
    assert listed["last_status"] == 500
    assert listed["last_error"]["id"] == "cron.callback"
    assert "HTTP 500" in listed["last_error"]["detail"]


def test_cron_checks_callback_again_when_it_runs(owner: Persona, settings: Any) -> None:
    """A name that resolved elsewhere when scheduled is checked again at each run."""
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = []
    with fake_site() as victim:
        Job.objects.create(
            account=owner.account,
            name="rebound",
            interval_seconds=60,
            callback_url=victim.url.replace("127.0.0.1", "runsc"),
            next_run_at=timezone.now() - dt.timedelta(seconds=1),
        )

        dispatch_due.delay()

        [listed] = owner.call("cron", "Jobs", {}).json()["jobs"]
        assert listed["last_error"]["id"] == "cron.callback"
        assert "private or reserved address" in listed["last_error"]["detail"]
        assert victim.requests == []


def test_cron_jobs_purged_with_account(site: FakeSite, owner: Persona, outsider: Persona) -> None:
    schedule(owner, site.url)
    schedule(outsider, site.url)

    purge_account(owner.account.pk)

    assert list(Job.objects.values_list("account_id", flat=True)) == [outsider.account.pk]


# --- rss ------------------------------------------------------------------


def add_feed(persona: Persona, url: str, capture: Any, name: str = "news", **extra: Any) -> Any:
    with capture(execute=True):
        return persona.call("rss", "Add", {"name": name, "url": url, **extra})


def test_rss_add_crawls_and_serves_entries(site: FakeSite, owner: Persona, django_capture_on_commit_callbacks) -> None:
    response = add_feed(owner, f"{site.url}/feed.xml", django_capture_on_commit_callbacks, category="tech")
    assert response.status_code == 200, response.content

    entries = owner.call("rss", "Feed", {"name": "news"}).json()["entries"]
    assert [entry["title"] for entry in entries] == ["Release 2 is out", "Release 1"]
    assert entries[0]["published"] == "2026-01-01T09:00:00+00:00"
    assert entries[0]["feed"] == "news"
    crawl.delay(Feed.objects.get().pk)  # a second crawl adds nothing twice
    assert Entry.objects.count() == 2
    [feed] = owner.call("rss", "List", {"category": "tech"}).json()["feeds"]
    assert feed["last_crawled"] and feed["last_error"] == {}
    assert owner.call("rss", "List", {"category": "other"}).json() == {"feeds": []}
    assert len(owner.call("rss", "Feed", {"category": "tech", "limit": 1}).json()["entries"]) == 1


def test_rss_follows_redirects_to_allowed_hosts(site: FakeSite, owner: Persona, django_capture_on_commit_callbacks) -> None:
    add_feed(owner, redirect_to(site, f"{site.url}/feed.xml"), django_capture_on_commit_callbacks)

    assert len(owner.call("rss", "Feed", {}).json()["entries"]) == 2


def test_rss_redirect_to_private_address_refused(
    site: FakeSite, owner: Persona, django_capture_on_commit_callbacks
) -> None:
    with fake_site() as victim:
        add_feed(owner, redirect_to(site, victim.url.replace("127.0.0.1", "localhost")), django_capture_on_commit_callbacks)

        [feed] = owner.call("rss", "List", {}).json()["feeds"]
        assert feed["last_error"]["id"] == "rss.crawl"
        assert "private or reserved address" in feed["last_error"]["detail"]
        assert victim.requests == []


def test_rss_not_a_feed_is_recorded(site: FakeSite, owner: Persona, django_capture_on_commit_callbacks) -> None:
    add_feed(owner, f"{site.url}/binary", django_capture_on_commit_callbacks)

    [feed] = owner.call("rss", "List", {}).json()["feeds"]
    assert feed["last_error"]["id"] == "rss.crawl"
    assert owner.call("rss", "Feed", {}).json() == {"entries": []}


def test_rss_add_refuses_metadata_and_duplicates(site: FakeSite, owner: Persona) -> None:
    assert_envelope(owner.call("rss", "Add", {"name": "m", "url": "http://169.254.169.254/"}), 400, "rss.add")
    assert owner.call("rss", "Add", {"name": "news", "url": f"{site.url}/feed.xml"}).status_code == 200

    body = assert_envelope(owner.call("rss", "Add", {"name": "news", "url": f"{site.url}/x"}), 400, "rss.add")
    assert body["fields"] == {"name": "Already exists."}


def test_rss_remove_and_unknown_feed(site: FakeSite, owner: Persona, django_capture_on_commit_callbacks) -> None:
    add_feed(owner, f"{site.url}/feed.xml", django_capture_on_commit_callbacks)

    assert owner.call("rss", "Remove", {"name": "news"}).json() == {"name": "news"}
    assert Entry.objects.count() == 0
    assert_envelope(owner.call("rss", "Feed", {"name": "news"}), 404, "rss.feed")
    assert_envelope(owner.call("rss", "Remove", {"name": "news"}), 404, "rss.remove")


def test_rss_crawl_due_requeues_feeds(site: FakeSite, owner: Persona, settings: Any) -> None:
    settings.M3O_RSS_MAX_ENTRIES_PER_FEED = 1
    owner.call("rss", "Add", {"name": "news", "url": f"{site.url}/feed.xml"})

    assert crawl_due.delay().get() == 1
    assert crawl_due.delay().get() == 0

    [entry] = owner.call("rss", "Feed", {}).json()["entries"]
    assert entry["title"] == "Release 2 is out"


def test_rss_feeds_purged_with_account(site: FakeSite, owner: Persona, django_capture_on_commit_callbacks) -> None:
    add_feed(owner, f"{site.url}/feed.xml", django_capture_on_commit_callbacks)

    purge_account(owner.account.pk)

    assert not Feed.objects.exists()
    assert not Entry.objects.exists()


def test_tunnel_redirect_to_other_origin_drops_credentials(site: FakeSite, owner: Persona, settings: Any) -> None:
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    other_origin = site.url.replace("127.0.0.1", "localhost") + "/landing"
    body = {
        "method": "GET",
        "url": redirect_to(site, other_origin),
        "headers": {"Authorization": "Bearer site-token", "Cookie": "a=b", "X-Trace": "t"},
        "follow_redirects": True,
    }

    assert owner.call("tunnel", "Send", body).json()["status"] == 200

    first, second = site.requests
    assert first.headers["Authorization"] == "Bearer site-token"
    assert second.path == "/landing"
    assert "Authorization" not in second.headers
    assert "Cookie" not in second.headers
    assert second.headers["X-Trace"] == "t"


def test_ping_too_many_redirects_is_502(site: FakeSite, owner: Persona) -> None:
    address = f"{site.url}/final"
    for _ in range(6):
        address = redirect_to(site, address)

    body = assert_envelope(owner.call("ping", "Url", {"address": address, "follow_redirects": True}), 502, "ping.url")

    assert "more than 5 times" in body["detail"]


def test_site_cookies_are_not_kept(site: FakeSite, owner: Persona, outsider: Persona) -> None:
    """The site sets a cookie on every response; the shared client must not send it on any later request."""
    owner.call("tunnel", "Send", {"method": "GET", "url": site.url})

    outsider.call("tunnel", "Send", {"method": "GET", "url": site.url})

    assert len(site.requests) == 2
    assert "Cookie" not in site.requests[1].headers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cron_parallel_dispatchers_run_each_slot_once(settings: Any) -> None:
    """Four dispatchers and redelivered runs at once: each due job is called exactly once."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from tests.conftest import _persona

    settings.M3O_UPSTREAM_ALLOWED_HOSTS = ["127.0.0.1"]
    owner = _persona("dispatch@example.com")
    with fake_site() as site:
        for index in range(10):
            Job.objects.create(
                account=owner.account,
                name=f"job-{index}",
                interval_seconds=60,
                callback_url=f"{site.url}/hook/{index}",
                next_run_at=timezone.now() - dt.timedelta(seconds=5),
            )

        def dispatch() -> int:
            try:
                return dispatch_due()
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=4) as pool:
            queued = sum(pool.map(lambda _: dispatch(), range(4)))

        assert queued == 10
        assert sorted(seen.path for seen in site.requests) == sorted(f"/hook/{index}" for index in range(10))
        for job in Job.objects.all():
            assert run_job(job.pk, job.last_slot.isoformat()) == "skipped"
        assert len(site.requests) == 10
