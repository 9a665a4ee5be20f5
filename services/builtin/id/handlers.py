from __future__ import annotations

from typing import Any

from services.builtin.id.generators import GENERATORS
from services.kit import CallContext


def generate(context: CallContext) -> dict[str, Any]:
    id_type = context.body.get("type", "uuid")
    return {"type": id_type, "id": GENERATORS[id_type]()}


def types(context: CallContext) -> dict[str, Any]:
    return {"types": list(GENERATORS)}
