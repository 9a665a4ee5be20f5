from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

KEY = "github/token it's %"
MARKERS = ("owner-secret-value-c41",)


def store(persona: Persona) -> None:
    ok(persona, "secret", "Set", {"key": KEY, "value": MARKERS[0]})


def snapshot(persona: Persona) -> object:
    keys = ok(persona, "secret", "List")["keys"]
    return {key: ok(persona, "secret", "Get", {"key": key})["value"] for key in keys}


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("secret", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Set", {"key": KEY, "value": "outsider"}),
    case("Get", {"key": KEY}),
    case("Delete", {"key": KEY}),
    case("List", {}),
]
