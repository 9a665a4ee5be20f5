from __future__ import annotations

from urllib.parse import urlsplit

from django.test import Client

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

PROJECT = "owner's site"
PATH = "/docs/it's %__a.txt"
MARKERS = ("owner-file-content-e88", "owner-file-meta-e88")


def store(persona: Persona) -> None:
    ok(
        persona,
        "file",
        "Save",
        {"file": {"project": PROJECT, "path": PATH, "content": MARKERS[0], "metadata": {"m": MARKERS[1]}}, "public": True},
    )


def snapshot(persona: Persona) -> object:
    listed = ok(persona, "file", "List", {"project": PROJECT})["files"]
    files = [ok(persona, "file", "Read", {"project": PROJECT, "path": record["path"]})["file"] for record in listed]
    # The public URL must keep serving the owner's content too.
    served = [Client().get(urlsplit(record["url"]).path).content for record in files]
    return files, served


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("file", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Save", {"file": {"project": PROJECT, "path": PATH, "content": "outsider"}, "public": True}),
    case("Read", {"project": PROJECT, "path": PATH}),
    case("List", {"project": PROJECT, "path": "/docs"}),
    case("Delete", {"project": PROJECT, "path": PATH}),
]
