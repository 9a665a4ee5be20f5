"""The db service through the gateway, including the query language."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from tests.conftest import Persona

PEOPLE = [
    {"id": "1", "name": "Jane", "age": 42, "city": "Paris", "admin": True},
    {"id": "2", "name": "John", "age": 25, "city": "London", "admin": False},
    {"id": "3", "name": "Ann", "age": 31, "city": "Paris", "admin": False},
    {"id": "4", "name": "Bob", "age": 30, "address": {"city": "Rome"}},
]


def db(persona: Persona, endpoint: str, **body: object):
    return persona.call("db", endpoint, body=body)


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [record["id"] for record in response.json()["records"]]


@pytest.fixture
def people(owner: Persona) -> Persona:
    for person in PEOPLE:
        assert db(owner, "Create", table="people", record=person).status_code == 200
    return owner


def test_create_then_read_by_id(owner: Persona) -> None:
    response = db(owner, "Create", table="t", record={"name": "Jane"}, id="jane")

    assert response.json() == {"id": "jane"}
    assert db(owner, "Read", table="t", id="jane").json() == {"records": [{"id": "jane", "name": "Jane"}]}


def test_create_generates_id(owner: Persona) -> None:
    record_id = db(owner, "Create", table="t", record={"name": "Jane"}).json()["id"]

    assert len(record_id) == 36
    assert db(owner, "Read", table="t", id=record_id).json()["records"][0]["name"] == "Jane"


def test_create_duplicate_id_is_400(owner: Persona) -> None:
    db(owner, "Create", table="t", record={"id": "1", "v": 1})

    response = db(owner, "Create", table="t", record={"id": "1", "v": 2})

    assert response.status_code == 400
    assert response.json()["id"] == "db.create"
    assert db(owner, "Read", table="t", id="1").json()["records"][0]["v"] == 1


def test_create_non_string_record_id_is_400(owner: Persona) -> None:
    response = db(owner, "Create", table="t", record={"id": 5})

    assert response.status_code == 400
    assert response.json()["id"] == "db.create"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name == 'Jane'", ["1"]),
        ('name == "Jane"', ["1"]),
        ("name != 'Jane'", ["2", "3", "4"]),
        ("age > 30", ["1", "3"]),
        ("age >= 30", ["1", "3", "4"]),
        ("age < 30", ["2"]),
        ("age <= 30", ["2", "4"]),
        ("name == 'Jane' and age > 30", ["1"]),
        ("city == 'Paris' or city == 'London'", ["1", "2", "3"]),
        ("city == 'Paris' and age < 40 or name == 'John'", ["2", "3"]),
        ("city == 'Paris' and (age < 40 or name == 'John')", ["3"]),
        ("admin == true", ["1"]),
        ("admin == false", ["2", "3"]),
        ("address.city == 'Rome'", ["4"]),
        ("`address`.`city` == 'Rome'", ["4"]),
        ("NAME == 'Jane'", []),
        ("name == 'jane'", []),
        ("missing == 1", []),
        ("name AND == 1", None),
    ],
)
def test_read_query(people: Persona, query: str, expected: list[str] | None) -> None:
    response = db(people, "Read", table="people", query=query)

    if expected is None:
        assert response.status_code == 400
        assert response.json()["id"] == "db.read"
        return
    assert sorted(ids(response)) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("it's", "O'Brien"),
        ('say "hi"', 'a "quoted" value'),
        ("a__b", "x__y"),
        ("data__name", "x"),
        ("a.b", "dotted.value"),
        ("select", "'; DROP TABLE builtin_db_record; --"),
        ("id) OR 1=1 --", "1' OR '1'='1"),
        ("$.name", "$"),
        ("back`quote", "back\\slash"),
        ("ключ", "значение"),
        ("with space", "%_"),
    ],
)
def test_query_tricky_field_names_and_values(owner: Persona, field: str, value: str) -> None:
    db(owner, "Create", table="t", record={"id": "match", field: value})
    db(owner, "Create", table="t", record={"id": "other", field: value + "!", "name": value})
    quoted_field = "`" + field.replace("`", "``") + "`"
    quoted_value = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    response = db(owner, "Read", table="t", query=f"{quoted_field} == {quoted_value}")

    if '"' in field and connection.vendor == "sqlite":
        assert response.status_code == 400
        assert response.json()["id"] == "db.read"
        return
    assert ids(response) == ["match"]
    assert sorted(ids(db(owner, "Read", table="t", query=f"{quoted_field} != {quoted_value}"))) == ["other"]
    assert ids(db(owner, "Read", table="t", orderBy=quoted_field, order="desc")) == ["other", "match"]


def test_query_keywords_as_bare_field_names(owner: Persona) -> None:
    db(owner, "Create", table="t", record={"id": "1", "select": 1, "from": 2, "where": "x"})

    assert ids(db(owner, "Read", table="t", query="select == 1 and from == 2 and where == 'x'")) == ["1"]


def test_query_nested_dots_differ_from_dotted_key(owner: Persona) -> None:
    db(owner, "Create", table="t", record={"id": "nested", "a": {"b": 1}})
    db(owner, "Create", table="t", record={"id": "dotted", "a.b": 1})

    assert ids(db(owner, "Read", table="t", query="a.b == 1")) == ["nested"]
    assert ids(db(owner, "Read", table="t", query="`a.b` == 1")) == ["dotted"]


@pytest.mark.parametrize(
    "query",
    [
        "name ==",
        "== 'Jane'",
        "name = 'Jane'",
        "name == Jane",
        "name == 'Jane",
        "(name == 'Jane'",
        "name == 'Jane')",
        "name == 'Jane' and",
        "name == 'Jane' or or age > 1",
        "name == 'a\\q'",
        "`` == 1",
        "age > 1e999",
        "name == 'Jane'; DROP TABLE x",
        "(" * 40 + "age > 1" + ")" * 40,
        " or ".join(["age > 1"] * 101),
    ],
)
def test_invalid_query_is_400(people: Persona, query: str) -> None:
    before = people.balance

    response = db(people, "Read", table="people", query=query)

    assert response.status_code == 400
    assert response.json()["id"] == "db.read"
    assert "query" in response.json()["fields"]
    assert people.balance == before


def test_invalid_order_by_is_400(people: Persona) -> None:
    response = db(people, "Read", table="people", orderBy="age desc")

    assert response.status_code == 400
    assert response.json()["id"] == "db.read"
    assert "orderBy" in response.json()["fields"]


def test_read_orders_and_pages(people: Persona) -> None:
    assert ids(db(people, "Read", table="people")) == ["1", "2", "3", "4"]
    assert ids(db(people, "Read", table="people", orderBy="age")) == ["2", "4", "3", "1"]
    assert ids(db(people, "Read", table="people", orderBy="age", order="desc")) == ["1", "3", "4", "2"]
    assert ids(db(people, "Read", table="people", orderBy="age", offset=1, limit=2)) == ["4", "3"]
    assert ids(db(people, "Read", table="people", offset=10)) == []


def test_read_limit_defaults_to_25(owner: Persona) -> None:
    for number in range(30):
        db(owner, "Create", table="t", record={"n": number})

    assert len(ids(db(owner, "Read", table="t"))) == 25
    assert len(ids(db(owner, "Read", table="t", limit=1000))) == 30


def test_update_merges_fields(people: Persona) -> None:
    response = db(people, "Update", table="people", record={"id": "1", "age": 43, "pet": "cat"})

    assert response.json()["record"] == {**PEOPLE[0], "age": 43, "pet": "cat"}
    assert db(people, "Read", table="people", id="1").json()["records"][0]["age"] == 43


def test_update_id_argument_wins(people: Persona) -> None:
    db(people, "Update", table="people", id="2", record={"id": "9", "age": 26})

    assert db(people, "Read", table="people", id="2").json()["records"][0] == {**PEOPLE[1], "age": 26}


def test_update_without_id_is_400(people: Persona) -> None:
    response = db(people, "Update", table="people", record={"age": 1})

    assert response.status_code == 400
    assert response.json()["id"] == "db.update"


def test_missing_record_is_404(people: Persona) -> None:
    for endpoint, body in (
        ("Read", {"table": "people", "id": "99"}),
        ("Update", {"table": "people", "id": "99", "record": {}}),
        ("Delete", {"table": "people", "id": "99"}),
        ("Read", {"table": "other", "id": "1"}),
        ("DropTable", {"table": "other"}),
        ("RenameTable", {"from": "other", "to": "new"}),
    ):
        response = people.call("db", endpoint, body=body)
        assert response.status_code == 404, (endpoint, body)
        assert response.json()["id"] == f"db.{endpoint.lower()}"


def test_delete_removes_record(people: Persona) -> None:
    assert db(people, "Delete", table="people", id="1").json() == {"id": "1"}
    assert db(people, "Count", table="people").json() == {"count": 3}


def test_tables_count_truncate_drop(people: Persona) -> None:
    db(people, "Create", table="pets", record={"name": "Rex"})

    assert db(people, "ListTables").json() == {"tables": ["people", "pets"]}
    assert db(people, "Count", table="people").json() == {"count": 4}
    assert db(people, "Count", table="none").json() == {"count": 0}
    assert db(people, "Truncate", table="people").json() == {"deleted": 4}
    assert db(people, "Truncate", table="people").json() == {"deleted": 0}
    assert db(people, "DropTable", table="pets").json() == {"deleted": 1}
    assert db(people, "ListTables").json() == {"tables": []}


def test_rename_table(people: Persona) -> None:
    assert db(people, "RenameTable", **{"from": "people", "to": "humans"}).json() == {"table": "humans", "records": 4}

    assert db(people, "Count", table="people").json() == {"count": 0}
    assert db(people, "Read", table="humans", id="1").status_code == 200


def test_rename_table_onto_existing_is_400(people: Persona) -> None:
    db(people, "Create", table="pets", record={"name": "Rex"})

    for target in ("pets", "people"):
        response = db(people, "RenameTable", **{"from": "people", "to": target})
        assert response.status_code == 400
        assert response.json()["id"] == "db.renametable"
    assert db(people, "Count", table="people").json() == {"count": 4}


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=2)
def test_row_limit_is_403(owner: Persona) -> None:
    db(owner, "Create", table="a", record={})
    db(owner, "Create", table="b", record={})

    response = db(owner, "Create", table="c", record={})

    assert response.status_code == 403
    assert response.json()["id"] == "db.row_limit"
    assert db(owner, "ListTables").json() == {"tables": ["a", "b"]}


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Create", {"record": {}}),
        ("Create", {"table": "t"}),
        ("Create", {"table": "", "record": {}}),
        ("Create", {"table": "t" * 129, "record": {}}),
        ("Create", {"table": "t", "record": []}),
        ("Create", {"table": "t", "record": {}, "id": ""}),
        ("Read", {}),
        ("Read", {"table": "t", "limit": 0}),
        ("Read", {"table": "t", "limit": 1001}),
        ("Read", {"table": "t", "offset": -1}),
        ("Read", {"table": "t", "order": "up"}),
        ("Read", {"table": "t", "query": ""}),
        ("Update", {"table": "t"}),
        ("Delete", {"table": "t"}),
        ("Truncate", {}),
        ("Count", {"table": 1}),
        ("RenameTable", {"from": "a"}),
        ("ListTables", {"table": "t"}),
        ("DropTable", {}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("db", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_purge_account_deletes_records(owner: Persona, outsider: Persona) -> None:
    from services.builtin.db.models import Record
    from services.registry import purge_account

    db(owner, "Create", table="t", record={})
    db(outsider, "Create", table="t", record={})

    purge_account(owner.account.pk)

    assert not Record.objects.filter(account_id=owner.account.pk).exists()
    assert Record.objects.filter(account_id=outsider.account.pk).count() == 1
