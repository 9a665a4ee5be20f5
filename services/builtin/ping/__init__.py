"""ping: check that a URL responds, and how fast.

Requests go through the outbound guard (services/outbound.py), so private,
loopback, link-local and metadata addresses are rejected.
"""

from __future__ import annotations

from typing import Any

from services import outbound
from services.builtin.schemas import request_object, response_object
from services.kit import CallContext
from services.registry import BuiltinEndpoint, BuiltinService, register

MAX_REDIRECTS = 5


def url(context: CallContext) -> dict[str, Any]:
    """Request the URL, read no body, and report the status code and the time to the response headers."""
    response = outbound.fetch(
        context.body.get("method", "GET"),
        context.body["address"],
        account_id=context.account_id,
        error_id="ping.url",
        max_redirects=MAX_REDIRECTS if context.body.get("follow_redirects", False) else 0,
        read_body=False,
    )
    return {"status": response.status, "latency_ms": round(response.elapsed_ms, 1), "url": response.url}


SERVICE = register(
    BuiltinService(
        slug="ping",
        name="Ping",
        tagline="Check that a web address responds.",
        description=(
            "Send a GET or HEAD request to an http or https address and get back its status code and how many "
            "milliseconds it took to respond. Private, loopback and cloud metadata addresses are rejected."
        ),
        category="Developer tools",
        icon="📶",
        endpoints=[
            BuiltinEndpoint(
                name="Url",
                handler=url,
                description="Request an address and return its status code and latency.",
                request_schema=request_object(
                    {
                        "address": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 2048,
                            "description": "The http or https URL to request.",
                        },
                        "method": {
                            "type": "string",
                            "enum": ["GET", "HEAD"],
                            "default": "GET",
                            "description": "The HTTP method.",
                        },
                        "follow_redirects": {
                            "type": "boolean",
                            "default": False,
                            "description": f"Follow up to {MAX_REDIRECTS} redirects and report the final response.",
                        },
                    },
                    ["address"],
                ),
                response_schema=response_object(
                    {
                        "status": {"type": "integer", "description": "The HTTP status code."},
                        "latency_ms": {"type": "number", "description": "Milliseconds until the response headers."},
                        "url": {"type": "string", "description": "The URL that responded, after any redirects."},
                    }
                ),
                price_units=1_000,
                examples=[
                    {
                        "title": "Ping a website",
                        "request": {"address": "https://example.com/", "method": "HEAD"},
                        "response": {"status": 200, "latency_ms": 84.2, "url": "https://example.com/"},
                    }
                ],
            )
        ],
    )
)
