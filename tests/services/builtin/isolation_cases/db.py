from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

TABLE = "users"
ODD_TABLE = "it's; DROP TABLE x"
MARKERS = ("owner-db-name-3f7", "owner-db-secret-3f7")


def store(persona: Persona) -> None:
    ok(persona, "db", "Create", {"table": TABLE, "id": "1", "record": {"name": MARKERS[0], "age": 40}})
    ok(persona, "db", "Create", {"table": ODD_TABLE, "id": "a__b", "record": {"v.x": MARKERS[1]}})


def snapshot(persona: Persona) -> object:
    tables = ok(persona, "db", "ListTables")["tables"]
    return {table: ok(persona, "db", "Read", {"table": table, "limit": 1000})["records"] for table in tables}


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("db", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Create", {"table": TABLE, "id": "1", "record": {"name": "outsider"}}),
    case("Read", {"table": TABLE, "query": "age > 0 or name != ''"}),
    case("Update", {"table": TABLE, "id": "1", "record": {"name": "changed"}}),
    case("Delete", {"table": ODD_TABLE, "id": "a__b"}),
    case("Truncate", {"table": TABLE}),
    case("Count", {"table": TABLE}),
    case("RenameTable", {"from": ODD_TABLE, "to": "mine"}),
    case("ListTables", {}),
    case("DropTable", {"table": TABLE}),
]
