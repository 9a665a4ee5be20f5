"""The lists service through the gateway."""

from __future__ import annotations

import pytest
import time_machine
from django.test import override_settings

from billing.models import Plan
from tests.conftest import Persona


def lists(persona: Persona, endpoint: str, **body: object):
    return persona.call("lists", endpoint, body=body)


def test_create_then_read(owner: Persona) -> None:
    created = lists(owner, "Create", name="Groceries", items=["Milk", "Eggs"]).json()["list"]

    response = lists(owner, "Read", id=created["id"])

    assert response.status_code == 200
    assert response.json()["list"] == created
    assert created["name"] == "Groceries"
    assert created["items"] == ["Milk", "Eggs"]
    assert len(created["id"]) == 36


def test_create_with_only_items_or_only_name(owner: Persona) -> None:
    assert lists(owner, "Create", items=["a"]).json()["list"]["name"] == ""
    assert lists(owner, "Create", name="Empty").json()["list"]["items"] == []


def test_create_without_name_or_items_is_400(owner: Persona) -> None:
    response = lists(owner, "Create", name="", items=[])

    assert response.status_code == 400
    assert response.json()["id"] == "lists.create"
    assert "name" in response.json()["fields"]


@pytest.mark.parametrize("list_id", ["a'b__c", "x; DROP TABLE y", "ü/é %_", "..", "1 == 1"])
def test_ids_with_odd_characters(owner: Persona, list_id: str) -> None:
    assert lists(owner, "Create", id=list_id, name="n").json()["list"]["id"] == list_id

    assert lists(owner, "Read", id=list_id).json()["list"]["name"] == "n"
    assert lists(owner, "Create", id=list_id, name="again").json()["id"] == "lists.create"
    assert lists(owner, "Delete", id=list_id).status_code == 200


def test_duplicate_id_is_400(owner: Persona) -> None:
    lists(owner, "Create", id="l", name="first")

    response = lists(owner, "Create", id="l", name="second")

    assert response.status_code == 400
    assert response.json()["id"] == "lists.create"
    assert response.json()["fields"] == {"id": "Already exists."}
    assert lists(owner, "Read", id="l").json()["list"]["name"] == "first"


def test_update_changes_given_fields(owner: Persona) -> None:
    with time_machine.travel("2026-01-01 00:00:00Z", tick=False):
        lists(owner, "Create", id="l", name="Old", items=["a", "b"])
    with time_machine.travel("2026-01-02 00:00:00Z", tick=False):
        renamed = lists(owner, "Update", list={"id": "l", "name": "New"}).json()["list"]
        refilled = lists(owner, "Update", list={"id": "l", "items": ["c"]}).json()["list"]

    assert renamed["items"] == ["a", "b"]
    assert refilled["name"] == "New"
    assert refilled["items"] == ["c"]
    assert refilled["created"].startswith("2026-01-01")
    assert refilled["updated"].startswith("2026-01-02")
    assert lists(owner, "Read", id="l").json()["list"] == refilled


def test_delete_returns_the_list_and_removes_it(owner: Persona) -> None:
    created = lists(owner, "Create", id="l", name="Gone", items=["x"]).json()["list"]

    assert lists(owner, "Delete", id="l").json() == {"list": created}
    assert lists(owner, "Read", id="l").status_code == 404


def test_list_newest_update_first_and_pages(owner: Persona) -> None:
    for day, list_id in enumerate(("a", "b", "c"), start=1):
        with time_machine.travel(f"2026-01-0{day} 00:00:00Z", tick=False):
            lists(owner, "Create", id=list_id, name=list_id)
    with time_machine.travel("2026-01-05 00:00:00Z", tick=False):
        lists(owner, "Update", list={"id": "a", "items": ["edited"]})

    listed = [item["id"] for item in lists(owner, "List").json()["lists"]]
    page = [item["id"] for item in lists(owner, "List", offset=1, limit=1).json()["lists"]]

    assert listed == ["a", "c", "b"]
    assert page == ["c"]


def test_missing_list_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint, body in (("Read", {"id": "nothing"}), ("Update", {"list": {"id": "nothing"}}), ("Delete", {"id": "nothing"})):
        response = owner.call("lists", endpoint, body=body)
        assert response.status_code == 404
        assert response.json()["id"] == f"lists.{endpoint.lower()}"
    assert owner.balance == before


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_row_limit_is_403(owner: Persona) -> None:
    lists(owner, "Create", id="a", name="a")

    response = lists(owner, "Create", id="b", name="b")

    assert response.status_code == 403
    assert response.json()["id"] == "lists.row_limit"
    assert lists(owner, "Update", list={"id": "a", "items": ["still fits"]}).status_code == 200


def test_byte_limit_is_403_and_shrinking_is_allowed(owner: Persona) -> None:
    Plan.objects.create(name="Tiny", slug="tiny", storage_cap_mb=1, is_default=True)
    item = "x" * 10_000
    lists(owner, "Create", id="a", items=[item] * 60)

    over = lists(owner, "Create", id="b", items=[item] * 60)
    fits = lists(owner, "Create", id="b", items=[item] * 30)
    grow = lists(owner, "Update", list={"id": "b", "items": [item] * 50})
    shrink = lists(owner, "Update", list={"id": "a", "items": ["small"]})

    assert over.status_code == 403
    assert over.json()["id"] == "lists.storage_limit"
    assert fits.status_code == 200
    assert grow.status_code == 403
    assert grow.json()["id"] == "lists.storage_limit"
    assert shrink.status_code == 200
    assert lists(owner, "Update", list={"id": "b", "items": [item] * 50}).status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Create", {"id": ""}),
        ("Create", {"id": "x" * 257, "name": "n"}),
        ("Create", {"name": "n" * 1001}),
        ("Create", {"items": "Milk"}),
        ("Create", {"items": [1]}),
        ("Create", {"items": ["x" * 10_001]}),
        ("Create", {"other": "x"}),
        ("Read", {}),
        ("Read", {"id": 5}),
        ("Update", {}),
        ("Update", {"id": "l", "name": "flat"}),
        ("Update", {"list": {"name": "no id"}}),
        ("Update", {"list": {"id": "l", "items": None}}),
        ("Update", {"list": {"id": "l", "other": 1}}),
        ("Delete", {"id": 1}),
        ("List", {"limit": 0}),
        ("List", {"limit": 1001}),
        ("List", {"offset": -1}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    lists(owner, "Create", id="l", name="kept")
    before = owner.balance

    response = owner.call("lists", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before
    assert lists(owner, "Read", id="l").json()["list"]["name"] == "kept"


@pytest.mark.parametrize("bad", ["nul\x00byte", "lone \ud800 surrogate"])
def test_unstorable_text_is_400(owner: Persona, bad: str) -> None:
    created = lists(owner, "Create", items=["ok", bad])
    lists(owner, "Create", id="l", name="kept")
    updated = lists(owner, "Update", list={"id": "l", "name": bad})

    for response in (created, updated):
        assert response.status_code == 400
        assert response.json()["id"] == "v1.bad_json"
    assert created.json()["fields"] == {"items[1]": "Contains a NUL character or invalid Unicode."}
    assert lists(owner, "Read", id="l").json()["list"]["name"] == "kept"


def test_purge_account_deletes_lists(owner: Persona, outsider: Persona) -> None:
    from services.builtin.lists.models import ItemList
    from services.registry import purge_account

    lists(owner, "Create", id="l", name="n")
    lists(outsider, "Create", id="l", name="n")

    purge_account(owner.account.pk)

    assert not ItemList.objects.filter(account_id=owner.account.pk).exists()
    assert ItemList.objects.filter(account_id=outsider.account.pk).count() == 1
