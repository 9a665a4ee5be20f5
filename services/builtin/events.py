"""The Events stream endpoint of the data services that announce their changes (notes, lists, comments).

A service announces each create, update and delete with
services.streaming.changes.change_announce; ``events_endpoint`` declares the
endpoint that streams those announcements to the account's subscribers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from services.builtin.schemas import request_object, response_object
from services.kit import CallContext
from services.registry import BuiltinEndpoint
from services.streaming.changes import change_stream


def events_endpoint(
    *, service: str, record_name: str, id_schema: dict[str, Any], example_request: dict[str, Any],
    example_record: dict[str, Any], delete_carries: str, price_units: int = 100,
) -> BuiltinEndpoint:
    """Declare ``Events``: the account's changes to ``service`` records, or to one record when an id is given.

    ``delete_carries`` is the sentence saying what a delete message holds.
    """

    def events(context: CallContext) -> AsyncIterator[dict[str, Any]]:
        return change_stream(
            service=service, account_id=context.account_id, record_name=record_name, record_id=context.body.get("id")
        )

    return BuiltinEndpoint(
        name="Events",
        streaming=True,
        stream=events,
        description=(
            f"Stream the creates, updates and deletes of your {service}, or of one {record_name}, from now on. "
            f"{delete_carries} The price is charged per message sent."
        ),
        request_schema=request_object({"id": {**id_schema, "description": f"Only this {record_name}'s changes."}}, []),
        response_schema=response_object(
            {
                "type": {"type": "string", "enum": ["create", "update", "delete"]},
                record_name: {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
            }
        ),
        price_units=price_units,
        examples=[
            {
                "title": f"Follow changes to a {record_name}",
                "request": example_request,
                "response": {"type": "update", record_name: example_record},
            }
        ],
    )
