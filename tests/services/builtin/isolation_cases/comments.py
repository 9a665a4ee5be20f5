from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

COMMENT_ID = "it's; DROP TABLE c__1 %"
SUBJECT = "/blog/owner's post"
MARKERS = ("owner-comment-text-b27",)


def store(persona: Persona) -> None:
    ok(persona, "comments", "Create", {"id": COMMENT_ID, "subject": SUBJECT, "text": MARKERS[0]})


def snapshot(persona: Persona) -> object:
    return ok(persona, "comments", "List", {"limit": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("comments", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Create", {"id": COMMENT_ID, "subject": SUBJECT, "text": "outsider"}),
    case("Read", {"id": COMMENT_ID}),
    case("Update", {"comment": {"id": COMMENT_ID, "text": "changed"}}),
    case("Delete", {"id": COMMENT_ID}),
    case("List", {"subject": SUBJECT}),
]
