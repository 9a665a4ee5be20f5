"""The search service through the gateway, on PostgreSQL full-text search or SQLite FTS5."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings

from services.builtin.search.query import QueryError, Term, parse
from tests.conftest import Persona

PEOPLE = {
    "jane": {"name": "Jane Smith", "city": "New York", "age": 34, "tags": ["admin", "beta"]},
    "john": {"name": "John O'Brien", "city": "London", "age": 41, "address": {"city": "York", "street": "1 Main St"}},
    "anna": {"name": "Anna Müller", "city": "Berlin", "note": "likes new york pizza; DROP TABLE x; --", "active": True},
}


def search(persona: Persona, endpoint: str, **body: object):
    return persona.call("search", endpoint, body=body)


def found(persona: Persona, query: str, index: str = "people", **extra: object) -> list[str]:
    response = search(persona, "Search", index=index, query=query, **extra)
    assert response.status_code == 200, response.content
    return sorted(record["id"] for record in response.json()["records"])


@pytest.fixture
def people(owner: Persona) -> Persona:
    for doc_id, data in PEOPLE.items():
        assert search(owner, "Index", index="people", id=doc_id, data=data).status_code == 200
    return owner


def test_parser_groups_terms() -> None:
    assert parse('name:jane "new york" OR city:london AND age:41') == [
        [Term("name", ("jane",)), Term(None, ("new", "york"))],
        [Term("city", ("london",)), Term("age", ("41",))],
    ]
    assert parse("Straße") == [[Term(None, ("straße",))]]
    assert parse('jan* name:"new yo"* "a b" c:d*') == [
        [
            Term(None, ("jan",), prefix=True),
            Term("name", ("new", "yo"), prefix=True),
            Term(None, ("a", "b")),
            Term("c", ("d",), prefix=True),
        ]
    ]


@pytest.mark.parametrize("query", ['"unclosed', "OR jane", "jane OR", "!!!", "name:--", " ".join(["x"] * 21)])
def test_parser_rejects(query: str) -> None:
    with pytest.raises(QueryError):
        parse(query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("jane", ["jane"]),
        ("JANE", ["jane"]),
        ("york", ["anna", "jane", "john"]),
        ('"new york"', ["anna", "jane"]),
        ('city:"new york"', ["jane"]),
        ("city:york", ["jane"]),
        ("address.city:york", ["john"]),
        ("address:main", ["john"]),
        ("addr:main", []),
        ("city:london OR city:berlin", ["anna", "john"]),
        ("tags:beta", ["jane"]),
        ("age:41", ["john"]),
        ("active:true", ["anna"]),
        ("name:o'brien", ["john"]),
        ("brien", ["john"]),
        ("müller", ["anna"]),
        ("jane london", []),
        ("smith new", ["jane"]),
        ("drop table x", ["anna"]),
        ("\"'; DROP TABLE builtin_search_searchfield; --\"", []),
        ("x'); DROP TABLE builtin_search_searchfield;", []),
        ('name:"jane smith" OR note:pizza', ["anna", "jane"]),
        ("nyc", []),
        ("jan", []),
        ("jan*", ["jane"]),
        ("name:jo*", ["john"]),
        ("city:jo*", []),
        ('"new yo"*', ["anna", "jane"]),
        ('city:"new yo"*', ["jane"]),
        ("y*", ["anna", "jane", "john"]),
        ("mül*", ["anna"]),
    ],
)
def test_search_matches_whole_words_by_field(people: Persona, query: str, expected: list[str]) -> None:
    assert found(people, query) == expected


def test_field_names_with_odd_characters(owner: Persona) -> None:
    data = {"a'b": "quoted", "x%_y": "wild", "it's; DROP": {"in": "nested"}}
    search(owner, "Index", index="odd", id="1", data=data)

    assert found(owner, "a'b:quoted", index="odd") == ["1"]
    assert found(owner, "x%_y:wild", index="odd") == ["1"]
    assert found(owner, "x%:wild", index="odd") == []
    assert found(owner, "it's;:nested", index="odd") == []
    assert found(owner, "nested", index="odd") == ["1"]


def test_index_replaces_record_and_returns_it(people: Persona) -> None:
    response = search(people, "Index", index="people", id="jane", data={"name": "Jane Doe"})

    assert response.json() == {"record": {"id": "jane", "data": {"name": "Jane Doe"}}}
    assert found(people, "smith") == []
    assert found(people, "doe") == ["jane"]


def test_index_without_id_gets_uuid_and_creates_index(owner: Persona) -> None:
    record = search(owner, "Index", index="fresh", data={"t": "hello"}).json()["record"]

    assert len(record["id"]) == 36
    assert found(owner, "hello", index="fresh") == [record["id"]]
    assert search(owner, "CreateIndex", index="fresh").status_code == 400


def test_create_index_then_empty_search(owner: Persona) -> None:
    created = search(owner, "CreateIndex", index="empty").json()["index"]

    assert created["name"] == "empty"
    assert found(owner, "anything", index="empty") == []


def test_search_pages_newest_first(owner: Persona) -> None:
    for n in range(3):
        search(owner, "Index", index="p", id=str(n), data={"t": "same"})

    page = search(owner, "Search", index="p", query="same", offset=1, limit=1).json()["records"]

    assert [record["id"] for record in page] == ["1"]


def test_indexes_are_separate(people: Persona) -> None:
    search(people, "Index", index="other", id="x", data={"name": "Jane"})

    assert found(people, "jane", index="other") == ["x"]
    assert found(people, "jane") == ["jane"]


def test_delete_and_delete_index(people: Persona) -> None:
    assert search(people, "Delete", index="people", id="jane").json() == {"id": "jane"}
    assert found(people, "york") == ["anna", "john"]
    assert search(people, "Delete", index="people", id="jane").status_code == 404

    assert search(people, "DeleteIndex", index="people").json() == {"index": "people"}
    assert search(people, "Search", index="people", query="york").status_code == 404
    assert search(people, "DeleteIndex", index="people").status_code == 404


def test_deleted_records_leave_the_fulltext_index(people: Persona) -> None:
    search(people, "DeleteIndex", index="people")

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM builtin_search_fts WHERE builtin_search_fts MATCH 'york'")
            assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize(
    ("endpoint", "body", "error_id"),
    [
        ("Search", {"index": "none", "query": "x"}, "search.search"),
        ("Delete", {"index": "none", "id": "x"}, "search.delete"),
        ("Delete", {"index": "people", "id": "none"}, "search.delete"),
        ("DeleteIndex", {"index": "none"}, "search.deleteindex"),
    ],
)
def test_missing_is_404_and_free(people: Persona, endpoint: str, body: dict, error_id: str) -> None:
    before = people.balance

    response = people.call("search", endpoint, body=body)

    assert response.status_code == 404
    assert response.json()["id"] == error_id
    assert people.balance == before


@pytest.mark.parametrize("query", ['"open', "OR", "!!", "a OR"])
def test_bad_query_is_400_and_free(people: Persona, query: str) -> None:
    before = people.balance

    response = search(people, "Search", index="people", query=query)

    assert response.status_code == 400
    assert response.json()["id"] == "search.search"
    assert "query" in response.json()["fields"]
    assert people.balance == before


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("CreateIndex", {}),
        ("CreateIndex", {"index": ""}),
        ("CreateIndex", {"index": "x" * 257}),
        ("Index", {"index": "i"}),
        ("Index", {"index": "i", "data": [1]}),
        ("Index", {"index": "i", "data": "text"}),
        ("Index", {"data": {}}),
        ("Index", {"index": "i", "id": "", "data": {}}),
        ("Search", {"index": "i"}),
        ("Search", {"index": "i", "query": ""}),
        ("Search", {"query": "x"}),
        ("Search", {"index": "i", "query": "x", "limit": 0}),
        ("Delete", {"index": "i"}),
        ("DeleteIndex", {"name": "i"}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("search", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=2)
def test_row_limit_counts_indexes_and_records(owner: Persona) -> None:
    search(owner, "Index", index="i", id="1", data={"t": "a"})

    replaced = search(owner, "Index", index="i", id="1", data={"t": "b"})
    added = search(owner, "Index", index="i", id="2", data={"t": "c"})

    assert replaced.status_code == 200
    assert added.status_code == 403
    assert added.json()["id"] == "search.row_limit"


def test_storage_limit_counts_record_bytes(owner: Persona) -> None:
    from billing.models import Plan

    Plan.objects.update(is_default=False)
    Plan.objects.create(name="Tiny", slug="tiny", storage_cap_mb=1, is_default=True)
    search(owner, "Index", index="i", id="1", data={"t": "a" * 600_000})

    response = search(owner, "Index", index="i", id="2", data={"t": "b" * 600_000})

    assert response.status_code == 403
    assert response.json()["id"] == "search.storage_limit"


def test_purge_account_deletes_indexes(people: Persona, outsider: Persona) -> None:
    from services.builtin.search.models import SearchDocument, SearchField, SearchIndex
    from services.registry import purge_account

    search(outsider, "Index", index="people", id="jane", data={"name": "Jane"})

    purge_account(people.account.pk)

    for model in (SearchIndex, SearchDocument, SearchField):
        assert not model.objects.filter(account_id=people.account.pk).exists()
    assert found(outsider, "jane") == ["jane"]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("prefix", [False, True])
def test_postgres_phrase_match_uses_gin_index(prefix: bool) -> None:
    from services.builtin.search.fulltext import phrase_filter
    from services.builtin.search.models import SearchField

    sql, params = SearchField.objects.filter(phrase_filter(["new", "york"], prefix=prefix)).query.sql_with_params()
    with connection.cursor() as cursor:
        # With sequential scans priced out, the planner picks the GIN index only if the expression matches it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "builtin_search_field_fts" in plan, plan
