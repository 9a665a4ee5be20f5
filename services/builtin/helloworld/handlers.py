from __future__ import annotations

from typing import Any

from services.kit import CallContext


def call(context: CallContext) -> dict[str, Any]:
    return {"message": f"Hello {context.body['name']}"}
