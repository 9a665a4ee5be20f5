"""The search service's endpoints, schemas and examples."""

from __future__ import annotations

from typing import Any

from services.builtin.schemas import request_object, response_object
from services.builtin.search import handlers
from services.builtin.search.query import MAX_TERMS
from services.registry import BuiltinEndpoint, BuiltinService, Handler, register

INDEX = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The index's name; any characters."}
RECORD_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The record's id."}
RECORD = response_object({"id": {"type": "string"}, "data": {"type": "object"}})
INDEX_INFO = response_object({"name": {"type": "string"}, "created": {"type": "string", "format": "date-time"}})
EXAMPLE_DATA = {"name": "Jane Smith", "city": "New York", "age": 34, "tags": ["admin", "beta"]}
EXAMPLE_RECORD = {"id": "jane", "data": EXAMPLE_DATA}


def _endpoint(name: str, handler: Handler, description: str, **spec: Any) -> BuiltinEndpoint:
    return BuiltinEndpoint(name=name, handler=handler, description=description, price_units=100, **spec)


SERVICE = register(
    BuiltinService(
        slug="search",
        name="Search",
        tagline="Full-text search over your JSON records.",
        description=(
            "Put JSON records into named indexes and find them with queries such as `city:\"new york\" age:34` "
            "or `london OR paris`. A term matches whole words, case-insensitively, in any field or in the "
            "field named before its colon (nested fields as `address.city`). A `*` after a term makes its "
            "last word a prefix (`jan*`). Terms in a row must all match, and `OR` separates alternatives."
        ),
        category="Storage",
        icon="🔎",
        purge_account=handlers.purge_account,
        endpoints=[
            _endpoint(
                "CreateIndex",
                handlers.create_index,
                "Create an empty index. Index also creates an index the first time you use its name.",
                request_schema=request_object({"index": INDEX}, ["index"]),
                response_schema=response_object({"index": INDEX_INFO}),
                examples=[
                    {
                        "title": "Create an index of customers",
                        "request": {"index": "customers"},
                        "response": {"index": {"name": "customers", "created": "2026-01-01T12:00:00+00:00"}},
                    }
                ],
            ),
            _endpoint(
                "Index",
                handlers.index_record,
                "Store a JSON record in an index, replacing any record with the same id.",
                request_schema=request_object(
                    {
                        "index": INDEX,
                        "id": {**RECORD_ID, "description": "The record's id; a new UUID when left out."},
                        "data": {"type": "object", "description": "The record: any JSON object."},
                    },
                    ["index", "data"],
                ),
                response_schema=response_object({"record": RECORD}),
                examples=[
                    {
                        "title": "Index a customer",
                        "request": {"index": "customers", "id": "jane", "data": EXAMPLE_DATA},
                        "response": {"record": EXAMPLE_RECORD},
                    }
                ],
            ),
            _endpoint(
                "Search",
                handlers.search,
                "Find the records of an index that match a query, most recently indexed first.",
                request_schema=request_object(
                    {
                        "index": INDEX,
                        "query": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 2000,
                            "description": f"Terms such as `jane`, `city:\"new york\"`, joined by `OR`; at most {MAX_TERMS}.",
                        },
                        "offset": {"type": "integer", "minimum": 0, "default": 0, "description": "Records to skip."},
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 25,
                            "description": "Maximum records returned.",
                        },
                    },
                    ["index", "query"],
                ),
                response_schema=response_object({"records": {"type": "array", "items": RECORD}}),
                examples=[
                    {
                        "title": "Customers in New York",
                        "request": {"index": "customers", "query": "city:\"new york\""},
                        "response": {"records": [EXAMPLE_RECORD]},
                    },
                    {
                        "title": "Beta users or anyone in London",
                        "request": {"index": "customers", "query": "tags:beta OR city:london"},
                        "response": {"records": [EXAMPLE_RECORD]},
                    },
                ],
            ),
            _endpoint(
                "Delete",
                handlers.delete,
                "Delete a record from an index.",
                request_schema=request_object({"index": INDEX, "id": RECORD_ID}, ["index", "id"]),
                response_schema=response_object({"id": {"type": "string"}}),
                examples=[
                    {"title": "Delete a record", "request": {"index": "customers", "id": "jane"}, "response": {"id": "jane"}}
                ],
            ),
            _endpoint(
                "DeleteIndex",
                handlers.delete_index,
                "Delete an index and every record in it.",
                request_schema=request_object({"index": INDEX}, ["index"]),
                response_schema=response_object({"index": {"type": "string"}}),
                examples=[
                    {"title": "Delete an index", "request": {"index": "customers"}, "response": {"index": "customers"}}
                ],
            ),
        ],
    )
)
