from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

TEXT = "https://example.com/owner-qr-5b1"
MARKERS = ("owner-qr-5b1",)


def store(persona: Persona) -> None:
    ok(persona, "qr", "Generate", {"text": TEXT})


def snapshot(persona: Persona) -> object:
    return [(code["id"], code["text"]) for code in ok(persona, "qr", "Codes", {"limit": 1000})["codes"]]


CASES = [
    IsolationCase("qr", "Generate", seed_then(store, {"text": "outsider text"}), snapshot, MARKERS),
    IsolationCase("qr", "Codes", seed_then(store, {}), snapshot, MARKERS),
]
