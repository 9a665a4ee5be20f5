"""The contact service through the gateway."""

from __future__ import annotations

import pytest
import time_machine
from django.test import override_settings

from billing.models import Plan
from tests.conftest import Persona

JANE = {
    "name": "Jane Doe",
    "phones": [{"label": "mobile", "number": "+44 7700 900123"}, {"number": "555-0100"}],
    "emails": [{"label": "work", "address": "jane@example.com"}],
    "links": [{"label": "blog", "url": "https://jane.example.com/"}],
    "birthday": "1990-04-01",
    "addresses": [{"label": "home", "location": "1 Main Street"}],
    "social_medias": [{"label": "mastodon", "username": "@jane@example.social"}],
    "note": "Likes tea.",
}


def contact(persona: Persona, endpoint: str, **body: object):
    return persona.call("contact", endpoint, body=body)


def test_create_then_read_every_field(owner: Persona) -> None:
    created = contact(owner, "Create", **JANE).json()["contact"]

    response = contact(owner, "Read", id=created["id"])

    assert response.status_code == 200
    assert response.json()["contact"] == created
    assert created["phones"][1] == {"label": "", "number": "555-0100"}
    assert {name: created[name] for name in JANE if name != "phones"} == {
        name: value for name, value in JANE.items() if name != "phones"
    }
    assert len(created["id"]) == 36
    assert set(created) == {*JANE, "id", "created_at", "updated_at"}


def test_create_with_only_a_name_has_empty_fields(owner: Persona) -> None:
    created = contact(owner, "Create", id="min", name="Min").json()["contact"]

    assert created["phones"] == created["emails"] == created["social_medias"] == []
    assert created["birthday"] == created["note"] == ""


@pytest.mark.parametrize("contact_id", ["a'b__c", "x; DROP TABLE y", "ü/é %_", "..", "1 == 1"])
def test_ids_with_odd_characters(owner: Persona, contact_id: str) -> None:
    assert contact(owner, "Create", id=contact_id, name="n").json()["contact"]["id"] == contact_id

    assert contact(owner, "Read", id=contact_id).json()["contact"]["name"] == "n"
    assert contact(owner, "Create", id=contact_id, name="again").json()["id"] == "contact.create"
    assert contact(owner, "Delete", id=contact_id).json() == {}


def test_update_changes_given_fields_and_replaces_lists(owner: Persona) -> None:
    with time_machine.travel("2026-01-01 00:00:00Z", tick=False):
        contact(owner, "Create", id="jane", **JANE)
    with time_machine.travel("2026-01-02 00:00:00Z", tick=False):
        updated = contact(owner, "Update", id="jane", phones=[{"number": "1"}], birthday="").json()["contact"]

    assert updated["phones"] == [{"label": "", "number": "1"}]
    assert updated["birthday"] == ""
    assert updated["emails"] == JANE["emails"]
    assert updated["name"] == "Jane Doe"
    assert updated["created_at"].startswith("2026-01-01")
    assert updated["updated_at"].startswith("2026-01-02")
    assert contact(owner, "Read", id="jane").json()["contact"] == updated


def test_delete_removes_contact(owner: Persona) -> None:
    contact(owner, "Create", id="jane", name="Jane")

    assert contact(owner, "Delete", id="jane").json() == {}
    assert contact(owner, "Read", id="jane").status_code == 404


def test_list_by_name_with_offset_and_limit(owner: Persona) -> None:
    for name in ("Carol", "alice", "Bob"):
        contact(owner, "Create", id=name.lower(), name=name)

    listed = [item["name"] for item in contact(owner, "List").json()["contacts"]]
    page = contact(owner, "List", offset=1, limit=1).json()["contacts"]

    assert listed == ["alice", "Bob", "Carol"]
    assert [item["name"] for item in page] == ["Bob"]


def test_list_defaults_to_30(owner: Persona) -> None:
    from services.builtin.contact.models import Contact

    Contact.objects.bulk_create(
        Contact(account_id=owner.account.pk, contact_id=str(number), name=f"n{number:02}") for number in range(31)
    )

    assert len(contact(owner, "List").json()["contacts"]) == 30


def test_missing_contact_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint in ("Read", "Update", "Delete"):
        response = contact(owner, endpoint, id="nothing")
        assert response.status_code == 404
        assert response.json()["id"] == f"contact.{endpoint.lower()}"
    assert owner.balance == before


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_row_limit_is_403(owner: Persona) -> None:
    contact(owner, "Create", name="a")

    response = contact(owner, "Create", name="b")

    assert response.status_code == 403
    assert response.json()["id"] == "contact.row_limit"


def test_byte_limit_is_403(owner: Persona) -> None:
    Plan.objects.create(name="Tiny", slug="tiny", storage_cap_mb=1, is_default=True)
    addresses = [{"location": "x" * 1000}] * 100
    for number in range(10):
        contact(owner, "Create", id=str(number), name="n", addresses=addresses)

    response = contact(owner, "Create", id="over", name="n", addresses=addresses)

    assert response.status_code == 403
    assert response.json()["id"] == "contact.storage_limit"
    assert contact(owner, "Update", id="0", addresses=[]).status_code == 200
    assert contact(owner, "Create", id="over", name="n", addresses=addresses).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": " "}, "name"),
        ({"emails": [{"address": "not an email"}]}, "emails[0].address"),
        ({"emails": [{"address": "a@example.com"}, {"address": "b@"}]}, "emails[1].address"),
        ({"links": [{"url": "javascript:alert(1)"}]}, "links[0].url"),
        ({"links": [{"url": "https://"}]}, "links[0].url"),
        ({"birthday": "01/04/1990"}, "birthday"),
        ({"birthday": "1990-02-30"}, "birthday"),
        ({"birthday": "19900401"}, "birthday"),
    ],
)
def test_invalid_value_is_400_naming_the_field(owner: Persona, body: dict, field: str) -> None:
    contact(owner, "Create", id="kept", **JANE)

    created = contact(owner, "Create", **{"name": "n", **body})
    updated = contact(owner, "Update", id="kept", **body)

    assert created.status_code == 400
    assert created.json()["id"] == "contact.create"
    assert list(created.json()["fields"]) == [field]
    assert updated.status_code == 400
    assert updated.json()["id"] == "contact.update"
    assert {name: contact(owner, "Read", id="kept").json()["contact"][name] for name in JANE} == JANE | {
        "phones": [{"label": "mobile", "number": "+44 7700 900123"}, {"label": "", "number": "555-0100"}]
    }


@pytest.mark.parametrize(("body", "field"), [({"note": "a\x00b"}, "note"), ({"phones": [{"number": "\ud800"}]}, "phones[0].number")])
def test_unstorable_text_is_400_naming_the_field(owner: Persona, body: dict, field: str) -> None:
    contact(owner, "Create", id="kept", **JANE)

    created = contact(owner, "Create", **{"name": "n", **body})
    updated = contact(owner, "Update", id="kept", **body)

    for response in (created, updated):
        assert response.status_code == 400
        assert response.json()["id"] == "v1.bad_json"
        assert list(response.json()["fields"]) == [field]
    assert contact(owner, "Read", id="kept").json()["contact"]["name"] == JANE["name"]


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Create", {}),
        ("Create", {"name": ""}),
        ("Create", {"name": "n", "id": ""}),
        ("Create", {"name": "n", "phones": ["555"]}),
        ("Create", {"name": "n", "phones": [{"label": "home"}]}),
        ("Create", {"name": "n", "emails": [{"address": "a@example.com", "other": 1}]}),
        ("Create", {"name": "n", "birthday": 19900401}),
        ("Create", {"name": "n", "social_medias": [{"username": "x"}] * 101}),
        ("Create", {"name": "n", "socials": []}),
        ("Read", {}),
        ("Update", {"name": "n"}),
        ("Update", {"id": "kept", "name": ""}),
        ("Delete", {"id": 1}),
        ("List", {"limit": 0}),
        ("List", {"limit": 1001}),
        ("List", {"offset": -1}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    contact(owner, "Create", id="kept", name="Kept")
    before = owner.balance

    response = owner.call("contact", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before
    assert contact(owner, "Read", id="kept").json()["contact"]["name"] == "Kept"


def test_purge_account_deletes_contacts(owner: Persona, outsider: Persona) -> None:
    from services.builtin.contact.models import Contact
    from services.registry import purge_account

    contact(owner, "Create", id="c", name="n")
    contact(outsider, "Create", id="c", name="n")

    purge_account(owner.account.pk)

    assert not Contact.objects.filter(account_id=owner.account.pk).exists()
    assert Contact.objects.filter(account_id=outsider.account.pk).count() == 1
