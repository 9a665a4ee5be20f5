"""One account's stored data is out of reach of every other account, in every data service.

Each case stores data as the owner, then the outsider calls every endpoint with the owner's
keys, ids and names. Reads find nothing, writes touch only the outsider's own rows, and the
owner's data reads back unchanged afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Persona


@dataclass(frozen=True)
class Step:
    endpoint: str
    body: dict[str, Any]
    status: int = 200
    # Top-level fields the response must contain, when given.
    expected: dict[str, Any] = field(default_factory=dict)
    # A check on the whole response body, for values inside nested objects.
    check_body: Callable[[dict[str, Any]], bool] | None = None


@dataclass(frozen=True)
class IsolationCase:
    service: str
    setup: list[Step]
    attacks: list[Step]
    checks: list[Step]

    def __str__(self) -> str:
        return self.service


CASES = [
    IsolationCase(
        service="cache",
        setup=[Step("Set", {"key": "k", "value": "owner"}), Step("Set", {"key": "n", "value": "5"})],
        attacks=[
            Step("Get", {"key": "k"}, 404, {"id": "cache.get"}),
            Step("Delete", {"key": "k"}, 404, {"id": "cache.delete"}),
            Step("ListKeys", {}, 200, {"keys": []}),
            Step("Increment", {"key": "n"}, 200, {"value": 1}),
            Step("Decrement", {"key": "n", "value": 3}, 200, {"value": -2}),
            Step("Set", {"key": "k", "value": "outsider"}),
            Step("Get", {"key": "k"}, 200, {"value": "outsider"}),
        ],
        checks=[
            Step("Get", {"key": "k"}, 200, {"value": "owner"}),
            Step("Get", {"key": "n"}, 200, {"value": "5"}),
            Step("ListKeys", {}, 200, {"keys": ["k", "n"]}),
        ],
    ),
    IsolationCase(
        service="db",
        setup=[
            Step("Create", {"table": "users", "id": "1", "record": {"name": "owner"}}),
            Step("Create", {"table": "it's; DROP TABLE x", "id": "a__b", "record": {"v": 1}}),
        ],
        attacks=[
            Step("Read", {"table": "users", "id": "1"}, 404, {"id": "db.read"}),
            Step("Read", {"table": "users"}, 200, {"records": []}),
            Step("Read", {"table": "users", "query": "name == 'owner' or 1 == 1"}, 200, {"records": []}),
            Step("Read", {"table": "it's; DROP TABLE x", "query": "v == 1"}, 200, {"records": []}),
            Step("Update", {"table": "users", "id": "1", "record": {"name": "x"}}, 404, {"id": "db.update"}),
            Step("Delete", {"table": "users", "id": "1"}, 404, {"id": "db.delete"}),
            Step("Delete", {"table": "it's; DROP TABLE x", "id": "a__b"}, 404, {"id": "db.delete"}),
            Step("Count", {"table": "users"}, 200, {"count": 0}),
            Step("ListTables", {}, 200, {"tables": []}),
            Step("Truncate", {"table": "users"}, 200, {"deleted": 0}),
            Step("RenameTable", {"from": "users", "to": "mine"}, 404, {"id": "db.renametable"}),
            Step("DropTable", {"table": "users"}, 404, {"id": "db.droptable"}),
            Step("Create", {"table": "users", "id": "1", "record": {"name": "outsider"}}),
            Step("RenameTable", {"from": "users", "to": "it's; DROP TABLE x"}, 200, {"records": 1}),
            Step("DropTable", {"table": "it's; DROP TABLE x"}, 200, {"deleted": 1}),
        ],
        checks=[
            Step("Read", {"table": "users", "id": "1"}, 200, {"records": [{"id": "1", "name": "owner"}]}),
            Step("Read", {"table": "it's; DROP TABLE x", "id": "a__b"}, 200, {"records": [{"id": "a__b", "v": 1}]}),
            Step("ListTables", {}, 200, {"tables": ["it's; DROP TABLE x", "users"]}),
        ],
    ),
    IsolationCase(
        service="notes",
        setup=[Step("Create", {"id": "n", "title": "owner", "text": "secret"})],
        attacks=[
            Step("Read", {"id": "n"}, 404, {"id": "notes.read"}),
            Step("Update", {"id": "n", "text": "changed"}, 404, {"id": "notes.update"}),
            Step("Delete", {"id": "n"}, 404, {"id": "notes.delete"}),
            Step("List", {}, 200, {"notes": []}),
            Step("Create", {"id": "n", "title": "outsider"}),
        ],
        checks=[
            Step("Read", {"id": "n"}, 200, check_body=lambda body: body["note"]["text"] == "secret"),
            Step("List", {}, 200, check_body=lambda body: [note["title"] for note in body["notes"]] == ["owner"]),
        ],
    ),
    IsolationCase(
        service="secret",
        setup=[Step("Set", {"key": "token", "value": "owner"})],
        attacks=[
            Step("Get", {"key": "token"}, 404, {"id": "secret.get"}),
            Step("Delete", {"key": "token"}, 404, {"id": "secret.delete"}),
            Step("List", {}, 200, {"keys": []}),
            Step("Set", {"key": "token", "value": "outsider"}),
        ],
        checks=[
            Step("Get", {"key": "token"}, 200, {"value": "owner"}),
            Step("List", {}, 200, {"keys": ["token"]}),
        ],
    ),
    IsolationCase(
        service="url",
        setup=[Step("Create", {"id": "owned", "destinationURL": "https://example.com/owner"})],
        attacks=[
            Step("Resolve", {"id": "owned"}, 404, {"id": "url.resolve"}),
            Step("Update", {"id": "owned", "destinationURL": "https://evil.example/"}, 404, {"id": "url.update"}),
            Step("Delete", {"id": "owned"}, 404, {"id": "url.delete"}),
            Step("List", {}, 200, {"urls": []}),
            # Short ids are one public namespace, so a taken id is rejected rather than shadowed.
            Step("Create", {"id": "owned", "destinationURL": "https://evil.example/"}, 400, {"id": "url.create"}),
        ],
        checks=[
            Step("Resolve", {"id": "owned"}, 200, check_body=lambda body: body["url"]["destinationURL"].endswith("/owner")),
            Step("List", {}, 200, check_body=lambda body: [link["id"] for link in body["urls"]] == ["owned"]),
        ],
    ),
]


def run(persona: Persona, service: str, step: Step) -> dict[str, Any]:
    response = persona.call(service, step.endpoint, body=step.body)
    assert response.status_code == step.status, (step, response.content)
    body = response.json()
    for name, value in step.expected.items():
        assert body.get(name) == value, (step, body)
    if step.check_body is not None:
        assert step.check_body(body), (step, body)
    return body


@pytest.mark.parametrize("case", CASES, ids=str)
def test_other_account_finds_and_changes_nothing(owner: Persona, outsider: Persona, case: IsolationCase) -> None:
    for step in case.setup:
        run(owner, case.service, step)

    for step in case.attacks:
        run(outsider, case.service, step)

    for step in case.checks:
        run(owner, case.service, step)
