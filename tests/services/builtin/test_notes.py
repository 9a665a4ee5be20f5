"""The notes service through the gateway."""

from __future__ import annotations

import pytest
import time_machine
from django.test import override_settings

from tests.conftest import Persona


def notes(persona: Persona, endpoint: str, **body: object):
    return persona.call("notes", endpoint, body=body)


def test_create_then_read(owner: Persona) -> None:
    created = notes(owner, "Create", title="Shopping", text="Milk").json()["note"]

    response = notes(owner, "Read", id=created["id"])

    assert response.status_code == 200
    assert response.json()["note"] == created
    assert created["title"] == "Shopping"
    assert created["text"] == "Milk"
    assert len(created["id"]) == 36


def test_create_with_own_id(owner: Persona) -> None:
    assert notes(owner, "Create", id="a'b__c", title="T").json()["note"]["id"] == "a'b__c"

    response = notes(owner, "Create", id="a'b__c")

    assert response.status_code == 400
    assert response.json()["id"] == "notes.create"


def test_update_changes_given_fields(owner: Persona) -> None:
    with time_machine.travel("2026-01-01 00:00:00Z", tick=False):
        notes(owner, "Create", id="n", title="Old", text="Text")
    with time_machine.travel("2026-01-02 00:00:00Z", tick=False):
        note = notes(owner, "Update", id="n", title="New").json()["note"]

    assert note["title"] == "New"
    assert note["text"] == "Text"
    assert note["created"].startswith("2026-01-01")
    assert note["updated"].startswith("2026-01-02")
    assert notes(owner, "Read", id="n").json()["note"] == note


def test_delete_removes_note(owner: Persona) -> None:
    notes(owner, "Create", id="n")

    assert notes(owner, "Delete", id="n").json() == {"id": "n"}
    assert notes(owner, "Read", id="n").status_code == 404


def test_list_newest_update_first_and_pages(owner: Persona) -> None:
    for day, note_id in enumerate(("a", "b", "c"), start=1):
        with time_machine.travel(f"2026-01-0{day} 00:00:00Z", tick=False):
            notes(owner, "Create", id=note_id)
    with time_machine.travel("2026-01-05 00:00:00Z", tick=False):
        notes(owner, "Update", id="a", text="edited")

    listed = [note["id"] for note in notes(owner, "List").json()["notes"]]
    page = [note["id"] for note in notes(owner, "List", offset=1, limit=1).json()["notes"]]

    assert listed == ["a", "c", "b"]
    assert page == ["c"]


def test_missing_note_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint in ("Read", "Update", "Delete"):
        response = notes(owner, endpoint, id="nothing")
        assert response.status_code == 404
        assert response.json()["id"] == f"notes.{endpoint.lower()}"
    assert owner.balance == before


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_row_limit_is_403(owner: Persona) -> None:
    notes(owner, "Create", id="a")

    response = notes(owner, "Create", id="b")

    assert response.status_code == 403
    assert response.json()["id"] == "notes.row_limit"


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Create", {"id": ""}),
        ("Create", {"title": "t" * 1001}),
        ("Create", {"text": 5}),
        ("Create", {"other": "x"}),
        ("Read", {}),
        ("Update", {"title": "x"}),
        ("Update", {"id": "n", "text": None}),
        ("Delete", {"id": 1}),
        ("List", {"limit": 0}),
        ("List", {"offset": -1}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("notes", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_purge_account_deletes_notes(owner: Persona, outsider: Persona) -> None:
    from services.builtin.notes.models import Note
    from services.registry import purge_account

    notes(owner, "Create", id="n")
    notes(outsider, "Create", id="n")

    purge_account(owner.account.pk)

    assert not Note.objects.filter(account_id=owner.account.pk).exists()
    assert Note.objects.filter(account_id=outsider.account.pk).count() == 1
