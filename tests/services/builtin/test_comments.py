"""The comments service through the gateway."""

from __future__ import annotations

import pytest
import time_machine
from django.test import override_settings

from billing.models import Plan
from tests.conftest import Persona


def comments(persona: Persona, endpoint: str, **body: object):
    return persona.call("comments", endpoint, body=body)


def test_create_then_read(owner: Persona) -> None:
    created = comments(owner, "Create", subject="/blog/1", text="Nice").json()["comment"]

    response = comments(owner, "Read", id=created["id"])

    assert response.status_code == 200
    assert response.json()["comment"] == created
    assert created["subject"] == "/blog/1"
    assert created["text"] == "Nice"
    assert len(created["id"]) == 36


def test_create_without_subject_or_text_is_400(owner: Persona) -> None:
    response = comments(owner, "Create", subject="")

    assert response.status_code == 400
    assert response.json()["id"] == "comments.create"
    assert "text" in response.json()["fields"]


@pytest.mark.parametrize("comment_id", ["a'b__c", "x; DROP TABLE y", "ü/é %_", "..", "1 == 1"])
def test_ids_with_odd_characters(owner: Persona, comment_id: str) -> None:
    assert comments(owner, "Create", id=comment_id, text="t").json()["comment"]["id"] == comment_id

    assert comments(owner, "Read", id=comment_id).json()["comment"]["text"] == "t"
    assert comments(owner, "Create", id=comment_id, text="again").json()["id"] == "comments.create"
    assert comments(owner, "Delete", id=comment_id).status_code == 200


def test_update_changes_given_fields(owner: Persona) -> None:
    with time_machine.travel("2026-01-01 00:00:00Z", tick=False):
        comments(owner, "Create", id="c", subject="s", text="Old")
    with time_machine.travel("2026-01-02 00:00:00Z", tick=False):
        comment = comments(owner, "Update", comment={"id": "c", "text": "New"}).json()["comment"]

    assert comment["subject"] == "s"
    assert comment["text"] == "New"
    assert comment["created"].startswith("2026-01-01")
    assert comment["updated"].startswith("2026-01-02")
    assert comments(owner, "Read", id="c").json()["comment"] == comment


def test_delete_returns_the_comment_and_removes_it(owner: Persona) -> None:
    created = comments(owner, "Create", id="c", text="Gone").json()["comment"]

    assert comments(owner, "Delete", id="c").json() == {"comment": created}
    assert comments(owner, "Read", id="c").status_code == 404


def test_list_oldest_first_by_subject_and_pages(owner: Persona) -> None:
    for day, (comment_id, subject) in enumerate((("a", "/x"), ("b", "/y"), ("c", "/x")), start=1):
        with time_machine.travel(f"2026-01-0{day} 00:00:00Z", tick=False):
            comments(owner, "Create", id=comment_id, subject=subject, text=comment_id)

    listed = [comment["id"] for comment in comments(owner, "List").json()["comments"]]
    on_x = [comment["id"] for comment in comments(owner, "List", subject="/x").json()["comments"]]
    page = [comment["id"] for comment in comments(owner, "List", offset=1, limit=1).json()["comments"]]

    assert listed == ["a", "b", "c"]
    assert on_x == ["a", "c"]
    assert page == ["b"]
    assert comments(owner, "List", subject="/nothing").json() == {"comments": []}


def test_missing_comment_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint, body in (
        ("Read", {"id": "nothing"}),
        ("Update", {"comment": {"id": "nothing", "text": "x"}}),
        ("Delete", {"id": "nothing"}),
    ):
        response = owner.call("comments", endpoint, body=body)
        assert response.status_code == 404
        assert response.json()["id"] == f"comments.{endpoint.lower()}"
    assert owner.balance == before


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_row_limit_is_403(owner: Persona) -> None:
    comments(owner, "Create", id="a", text="a")

    response = comments(owner, "Create", id="b", text="b")

    assert response.status_code == 403
    assert response.json()["id"] == "comments.row_limit"


def test_byte_limit_is_403(owner: Persona) -> None:
    Plan.objects.create(name="Tiny", slug="tiny", storage_cap_mb=1, is_default=True)
    comments(owner, "Create", id="a", text="x" * 100_000)
    for number in range(9):
        comments(owner, "Create", id=f"more{number}", text="x" * 100_000)

    response = comments(owner, "Create", id="b", text="x" * 100_000)

    assert response.status_code == 403
    assert response.json()["id"] == "comments.storage_limit"
    assert comments(owner, "Update", comment={"id": "a", "text": "short"}).status_code == 200
    assert comments(owner, "Create", id="b", text="x" * 50_000).status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Create", {"id": ""}),
        ("Create", {"subject": "s" * 1001}),
        ("Create", {"text": "t" * 100_001}),
        ("Create", {"text": 5}),
        ("Create", {"other": "x"}),
        ("Read", {}),
        ("Update", {}),
        ("Update", {"id": "c", "text": "flat"}),
        ("Update", {"comment": {"text": "no id"}}),
        ("Update", {"comment": {"id": "c", "text": None}}),
        ("Delete", {"id": 1}),
        ("List", {"subject": 1}),
        ("List", {"limit": 0}),
        ("List", {"offset": -1}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    comments(owner, "Create", id="c", text="kept")
    before = owner.balance

    response = owner.call("comments", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before
    assert comments(owner, "Read", id="c").json()["comment"]["text"] == "kept"


def test_unstorable_text_is_400(owner: Persona) -> None:
    comments(owner, "Create", id="c", text="kept")

    created = comments(owner, "Create", subject="s", text="a\x00b")
    updated = comments(owner, "Update", comment={"id": "c", "subject": "\udfff"})

    assert created.status_code == 400
    assert created.json()["fields"] == {"text": "Contains a NUL character or invalid Unicode."}
    assert updated.status_code == 400
    assert updated.json()["id"] == "v1.bad_json"
    assert comments(owner, "Read", id="c").json()["comment"]["subject"] == ""


def test_purge_account_deletes_comments(owner: Persona, outsider: Persona) -> None:
    from services.builtin.comments.models import Comment
    from services.registry import purge_account

    comments(owner, "Create", id="c", text="t")
    comments(outsider, "Create", id="c", text="t")

    purge_account(owner.account.pk)

    assert not Comment.objects.filter(account_id=owner.account.pk).exists()
    assert Comment.objects.filter(account_id=outsider.account.pk).count() == 1
