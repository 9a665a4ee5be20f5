"""Every feature that makes outbound requests rejects every non-public destination.

One matrix: the features (the upstream proxy, ping, tunnel, cron callbacks,
rss crawls) times the destination forms (loopback in every IPv4 spelling and
in IPv6, private ranges, link-local and cloud metadata, shared address space,
the unspecified address, and a DNS name resolving to loopback), each reached
directly and through a redirect from an allowlisted site.

The sites run on loopback: the victim on 127.0.0.1, which no setting allows,
on the port every destination names; the redirecting site on 127.0.0.2,
which the allowlist names. Each case must end in the error envelope, either
as the response or as the job's or feed's recorded last error, and the victim
must see no request at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.utils import timezone

from catalog.models import Category, Endpoint, Service, UpstreamConfig
from catalog.services import endpoint_price_schedule
from services.builtin.cron.models import Job
from services.builtin.cron.tasks import dispatch_due
from services.builtin.rss.models import Feed
from services.builtin.rss.tasks import crawl
from tests.conftest import Persona
from tests.services.builtin.outbound_fake import FakeSite, fake_site

pytestmark = pytest.mark.django_db

REFUSED_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "017700000001",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "[fe80::1]",
    "100.64.0.1",
    "0.0.0.0",
    "localhost",
]
REFUSED = "private or reserved address"


@dataclass
class Sites:
    victim: FakeSite
    relay: FakeSite

    def destination(self, host: str) -> str:
        port = self.victim.url.rsplit(":", 1)[1]
        return f"http://{host}:{port}/secret"

    def redirect(self, target: str) -> str:
        return f"{self.relay.url}/redirect?to={quote(target, safe='')}"


@pytest.fixture
def sites(settings: Any) -> Iterator[Sites]:
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = ["127.0.0.2"]
    settings.M3O_UPSTREAM_ALLOW_PRIVATE = False
    settings.M3O_OUTBOUND_TIMEOUT_SECONDS = 2
    with fake_site("127.0.0.1") as victim, fake_site("127.0.0.2") as relay:
        yield Sites(victim=victim, relay=relay)


def assert_envelope(body: dict[str, Any], code: int, error_id: str, detail: str) -> None:
    assert {"id", "code", "detail", "status"} <= set(body), body
    assert (body["id"], body["code"]) == (error_id, code), body
    assert detail in body["detail"], body
    assert body["status"]


def call_error(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == response.status_code
    return body


# --- one attempt per feature: direct (the destination itself) or through the relay's redirect ---


def upstream(owner: Persona, sites: Sites, target: str, redirected: bool) -> None:
    service = Service.objects.create(
        slug="probe",
        name="Probe",
        status=Service.Status.PUBLISHED,
        backend=Service.Backend.UPSTREAM,
        category=Category.objects.get_or_create(slug="probes", name="Probes")[0],
    )
    endpoint = Endpoint.objects.create(
        service=service,
        name="Get",
        upstream_method="GET",
        upstream_path="/redirect" if redirected else "/secret",
        request_schema={"type": "object"},
        response_schema={"type": "object"},
    )
    endpoint_price_schedule(endpoint=endpoint, price_units=100, effective_from=None, created_by=None)
    base_url = sites.relay.url if redirected else target.removesuffix("/secret")
    UpstreamConfig.objects.create(service=service, base_url=base_url, credential_placement=UpstreamConfig.Placement.NONE)
    before = owner.balance

    response = owner.call("probe", "Get", {"to": target} if redirected else {})

    # The proxy never follows a redirect: the 3xx itself is the upstream's error.
    assert_envelope(call_error(response), 502, "v1.upstream_error", "HTTP 302" if redirected else REFUSED)
    assert owner.balance == before


def ping(owner: Persona, sites: Sites, target: str, redirected: bool) -> None:
    address = sites.redirect(target) if redirected else target
    response = owner.call("ping", "Url", {"address": address, "follow_redirects": True})

    assert_envelope(call_error(response), 502, "ping.url", REFUSED)


def tunnel(owner: Persona, sites: Sites, target: str, redirected: bool) -> None:
    url = sites.redirect(target) if redirected else target
    response = owner.call("tunnel", "Send", {"method": "GET", "url": url, "follow_redirects": True})

    assert_envelope(call_error(response), 502, "tunnel.send", REFUSED)


def cron(owner: Persona, sites: Sites, target: str, redirected: bool) -> None:
    if redirected:
        scheduled = owner.call("cron", "Schedule", {"name": "probe", "interval": 60, "callback": sites.redirect(target)})
        assert scheduled.status_code == 200, scheduled.content
        Job.objects.update(next_run_at=timezone.now())
    else:
        # Refused when scheduled, and again when run: the stored row stands for a name whose DNS answer changed.
        response = owner.call("cron", "Schedule", {"name": "probe", "interval": 60, "callback": target})
        assert_envelope(call_error(response), 400, "cron.schedule", REFUSED)
        Job.objects.create(
            account=owner.account, name="probe", interval_seconds=60, callback_url=target, next_run_at=timezone.now()
        )

    dispatch_due.delay()

    [job] = owner.call("cron", "Jobs", {}).json()["jobs"]
    # Callbacks do not follow redirects, so a 3xx response is a failed run.
    assert_envelope(job["last_error"], 502, "cron.callback", "HTTP 302" if redirected else REFUSED)


def rss(owner: Persona, sites: Sites, target: str, redirected: bool) -> None:
    if redirected:
        added = owner.call("rss", "Add", {"name": "probe", "url": sites.redirect(target)})
        assert added.status_code == 200, added.content
    else:
        response = owner.call("rss", "Add", {"name": "probe", "url": target})
        assert_envelope(call_error(response), 400, "rss.add", REFUSED)
        Feed.objects.create(account=owner.account, name="probe", url=target, next_crawl_at=timezone.now())

    crawl.delay(Feed.objects.get().pk)

    [feed] = owner.call("rss", "List", {}).json()["feeds"]
    assert_envelope(feed["last_error"], 502, "rss.crawl", REFUSED)


FEATURES: dict[str, Callable[[Persona, Sites, str, bool], None]] = {
    "upstream": upstream,
    "ping": ping,
    "tunnel": tunnel,
    "cron": cron,
    "rss": rss,
}


@pytest.mark.parametrize("redirected", [False, True], ids=["direct", "redirect"])
@pytest.mark.parametrize("host", REFUSED_HOSTS)
@pytest.mark.parametrize("feature", list(FEATURES))
def test_destination_refused(owner: Persona, sites: Sites, feature: str, host: str, redirected: bool) -> None:
    FEATURES[feature](owner, sites, sites.destination(host), redirected)

    assert sites.victim.requests == []
    # Through a redirect, the allowlisted relay received one request and returned the redirect.
    assert [seen.path.split("?")[0] for seen in sites.relay.requests] == (["/redirect"] if redirected else [])


def test_matrix_size() -> None:
    """Count the rejected destination cases, the figure reported for the outbound matrix."""
    assert len(FEATURES) * len(REFUSED_HOSTS) * 2 == 150


def test_allowlisted_relay_is_reached(owner: Persona, sites: Sites) -> None:
    """The control: the same calls to an allowed destination do connect, so the refusals above are the guard's."""
    response = owner.call("ping", "Url", {"address": sites.redirect(f"{sites.relay.url}/ok"), "follow_redirects": True})

    assert response.status_code == 200, response.content
    assert [seen.path.split("?")[0] for seen in sites.relay.requests] == ["/redirect", "/ok"]
