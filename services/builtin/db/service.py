"""The db service's endpoints, schemas and examples."""

from __future__ import annotations

from typing import Any

from services.builtin.db import handlers
from services.builtin.schemas import MAX_OFFSET, request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

TABLE = {"type": "string", "minLength": 1, "maxLength": 128, "description": "The table name; any characters."}
RECORD_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The record's id."}
RECORD = {"type": "object", "description": "The record: any JSON object."}
RECORDS = {"type": "array", "items": RECORD}
QUERY_HELP = (
    "A filter such as `name == 'Jane' and (age > 30 or admin == true)`. Operators: ==, !=, <, <=, >, >=, "
    "combined with and, or and parentheses. Values are quoted strings, numbers, true, false or null. "
    "A dot reaches into a nested object (`address.city`); write a field name with other characters in "
    "backquotes (`` `first name` ``). != matches only records that have the field."
)


def _endpoint(name: str, handler: Any, description: str, **spec: Any) -> BuiltinEndpoint:
    return BuiltinEndpoint(name=name, handler=handler, description=description, price_units=100, **spec)


TABLE_REQUEST = request_object({"table": TABLE}, ["table"])

SERVICE = register(
    BuiltinService(
        slug="db",
        name="DB",
        tagline="Store JSON records in tables and query them.",
        description=(
            "A document database private to your account. Create records in named tables, read them back "
            "by id or with a query such as `age > 30 and city == 'Paris'`, with paging and ordering, and "
            "update, count, rename and drop tables. A table exists while it has records."
        ),
        category="Storage",
        icon="🗄️",
        purge_account=handlers.purge_account,
        endpoints=[
            _endpoint(
                "Create",
                handlers.create,
                "Create a record. The id comes from id, else from record.id, else a new UUID.",
                request_schema=request_object({"table": TABLE, "record": RECORD, "id": RECORD_ID}, ["table", "record"]),
                response_schema=response_object({"id": {"type": "string"}}),
                examples=[
                    {
                        "title": "Create a user",
                        "request": {"table": "users", "record": {"id": "1", "name": "Jane", "age": 42}},
                        "response": {"id": "1"},
                    },
                    {
                        "title": "Create a record with a generated id",
                        "request": {"table": "events", "record": {"kind": "signup"}},
                        "response": {"id": "0b6e1f3c-5b0e-4bd4-9a4e-3f5ad6f0c2d1"},
                    },
                ],
            ),
            _endpoint(
                "Read",
                handlers.read,
                "Read one record by id, or the records that match a query, a page at a time.",
                request_schema=request_object(
                    {
                        "table": TABLE,
                        "id": RECORD_ID,
                        "query": {"type": "string", "minLength": 1, "maxLength": 4096, "description": QUERY_HELP},
                        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "description": "Records to skip."},
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 25,
                            "description": "Maximum number of records to return.",
                        },
                        "orderBy": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 512,
                            "description": "Field to sort by, written as in a query; by default, creation order.",
                        },
                        "order": {"type": "string", "enum": ["asc", "desc"], "default": "asc"},
                    },
                    ["table"],
                ),
                response_schema=response_object({"records": RECORDS}),
                examples=[
                    {
                        "title": "Find users over 30",
                        "request": {"table": "users", "query": "name == 'Jane' and age > 30", "orderBy": "age"},
                        "response": {"records": [{"id": "1", "name": "Jane", "age": 42}]},
                    }
                ],
            ),
            _endpoint(
                "Update",
                handlers.update,
                "Merge fields into a record; fields you leave out keep their values.",
                request_schema=request_object({"table": TABLE, "record": RECORD, "id": RECORD_ID}, ["table", "record"]),
                response_schema=response_object({"record": RECORD}),
                examples=[
                    {
                        "title": "Change a user's age",
                        "request": {"table": "users", "record": {"id": "1", "age": 43}},
                        "response": {"record": {"id": "1", "name": "Jane", "age": 43}},
                    }
                ],
            ),
            _endpoint(
                "Count",
                handlers.count,
                "Count the records in a table.",
                request_schema=TABLE_REQUEST,
                response_schema=response_object({"count": {"type": "integer"}}),
                examples=[{"title": "Count users", "request": {"table": "users"}, "response": {"count": 1}}],
            ),
            _endpoint(
                "ListTables",
                handlers.list_tables,
                "List the tables that have records, sorted by name.",
                request_schema=request_object({}, []),
                response_schema=response_object({"tables": {"type": "array", "items": {"type": "string"}}}),
                examples=[{"title": "List tables", "request": {}, "response": {"tables": ["events", "users"]}}],
            ),
            _endpoint(
                "RenameTable",
                handlers.rename_table,
                "Rename a table. The new name must not be in use.",
                request_schema=request_object({"from": TABLE, "to": TABLE}, ["from", "to"]),
                response_schema=response_object({"table": {"type": "string"}, "records": {"type": "integer"}}),
                examples=[
                    {
                        "title": "Rename users to people",
                        "request": {"from": "users", "to": "people"},
                        "response": {"table": "people", "records": 1},
                    }
                ],
            ),
            _endpoint(
                "Delete",
                handlers.delete,
                "Delete a record by id.",
                request_schema=request_object({"table": TABLE, "id": RECORD_ID}, ["table", "id"]),
                response_schema=response_object({"id": {"type": "string"}}),
                examples=[{"title": "Delete a person", "request": {"table": "people", "id": "1"}, "response": {"id": "1"}}],
            ),
            _endpoint(
                "Truncate",
                handlers.truncate,
                "Delete every record in a table.",
                request_schema=TABLE_REQUEST,
                response_schema=response_object({"deleted": {"type": "integer"}}),
                examples=[{"title": "Empty the people table", "request": {"table": "people"}, "response": {"deleted": 0}}],
            ),
            _endpoint(
                "DropTable",
                handlers.drop_table,
                "Delete a table and all its records.",
                request_schema=TABLE_REQUEST,
                response_schema=response_object({"deleted": {"type": "integer"}}),
                examples=[{"title": "Drop the events table", "request": {"table": "events"}, "response": {"deleted": 1}}],
            ),
        ],
    )
)
