from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

# .invalid never resolves (RFC 2606); the first crawl is queued on commit, which a test transaction never reaches.
FEED = "owner-feed-3b9"
URL = "https://owner-feed-3b9.invalid/feed.xml"
MARKERS = (URL, "owner-category-3b9")


def store(persona: Persona) -> None:
    ok(persona, "rss", "Add", {"name": FEED, "url": URL, "category": MARKERS[1]})


def snapshot(persona: Persona) -> object:
    return ok(persona, "rss", "List"), ok(persona, "rss", "Feed", {"limit": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("rss", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Add", {"name": FEED, "url": "https://outsider.invalid/feed.xml"}),
    case("Feed", {"name": FEED}),
    case("Feed", {"category": MARKERS[1]}),
    case("List", {"category": MARKERS[1]}),
    case("Remove", {"name": FEED}),
]
