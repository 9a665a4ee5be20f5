"""tunnel: send an HTTP request from the platform and get the response back.

Requests go through the outbound guard (services/outbound.py), so private,
loopback, link-local and metadata addresses are rejected, and responses are
capped in size and time. The request is built from the caller's method, URL,
headers and body only; the caller's M3O key never leaves the platform.
"""

from __future__ import annotations

import base64
from typing import Any

from services import outbound
from services.builtin.schemas import request_object, response_object
from services.kit import CallContext
from services.registry import BuiltinEndpoint, BuiltinService, register

MAX_REDIRECTS = 5
# Hop-by-hop headers (RFC 9110 section 7.6.1) describe one connection, not the message,
# and Host and Content-Length are set by the platform for the connection it makes.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length"}
# Cookies set by the destination are for the platform's connection, not for the caller.
# The body is returned decoded, so its encoding and length headers no longer apply.
RESPONSE_DROPPED = HOP_BY_HOP | {"set-cookie", "set-cookie2", "content-encoding", "content-length"}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _connection_listed(headers: dict[str, str]) -> set[str]:
    value = next((value for name, value in headers.items() if name.lower() == "connection"), "")
    return {token.strip().lower() for token in value.split(",") if token.strip()}


def send(context: CallContext) -> dict[str, Any]:
    method = context.body["method"]
    given = context.body.get("headers", {})
    dropped = REQUEST_DROPPED | _connection_listed(given)
    headers = {name: value for name, value in given.items() if name.lower() not in dropped}
    body = context.body.get("body", "")
    response = outbound.fetch(
        method,
        context.body["url"],
        account_id=context.account_id,
        error_id="tunnel.send",
        headers=headers,
        content=body.encode() if body else None,
        max_redirects=MAX_REDIRECTS if context.body.get("follow_redirects", False) else 0,
    )
    listed = {token.strip().lower() for name, value in response.headers if name.lower() == "connection" for token in value.split(",")}
    returned: dict[str, str] = {}
    for name, value in response.headers:
        lowered = name.lower()
        if lowered in RESPONSE_DROPPED or lowered in listed:
            continue
        returned[lowered] = f"{returned[lowered]}, {value}" if lowered in returned else value
    try:
        text, encoding = response.body.decode("utf-8"), "text"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(response.body).decode("ascii"), "base64"
    return {"status": response.status, "headers": returned, "body": text, "body_encoding": encoding, "url": response.url}


HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$"

SERVICE = register(
    BuiltinService(
        slug="tunnel",
        name="Tunnel",
        tagline="Send HTTP requests from the platform.",
        description=(
            "Send an HTTP request with your method, URL, headers and body, and get back the status, headers and "
            "body of the response. Private, loopback and cloud metadata addresses are rejected, and responses are "
            "capped in size and time. Connection headers and cookies set by the destination are not passed on. "
            "Authorization and Cookie headers are sent to the URL you name, and dropped when a redirect leads to "
            "another host."
        ),
        category="Developer tools",
        icon="🚇",
        endpoints=[
            BuiltinEndpoint(
                name="Send",
                handler=send,
                description="Send an HTTP request and return the response.",
                request_schema=request_object(
                    {
                        "method": {"type": "string", "enum": METHODS, "description": "The HTTP method."},
                        "url": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 2048,
                            "description": "The http or https URL to send the request to.",
                        },
                        "headers": {
                            "type": "object",
                            "maxProperties": 50,
                            "propertyNames": {"pattern": HEADER_NAME},
                            "additionalProperties": {"type": "string", "maxLength": 8192, "pattern": "^[^\\r\\n\\u0000]*$"},
                            "description": "Request headers by name.",
                        },
                        "body": {"type": "string", "maxLength": 1_000_000, "description": "The request body, as text."},
                        "follow_redirects": {
                            "type": "boolean",
                            "default": False,
                            "description": f"Follow up to {MAX_REDIRECTS} redirects and return the final response.",
                        },
                    },
                    ["method", "url"],
                ),
                response_schema=response_object(
                    {
                        "status": {"type": "integer", "description": "The HTTP status code."},
                        "headers": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                            "description": "Response headers by lower-case name; repeated headers joined with commas.",
                        },
                        "body": {"type": "string", "description": "The response body: text, or base64 for binary."},
                        "body_encoding": {"type": "string", "enum": ["text", "base64"]},
                        "url": {"type": "string", "description": "The URL that responded, after any redirects."},
                    }
                ),
                price_units=2_000,
                examples=[
                    {
                        "title": "Post JSON to an API",
                        "request": {
                            "method": "POST",
                            "url": "https://example.com/api/items",
                            "headers": {"Content-Type": "application/json"},
                            "body": '{"name": "widget"}',
                        },
                        "response": {
                            "status": 200,
                            "headers": {"content-type": "application/json"},
                            "body": '{"ok": true}',
                            "body_encoding": "text",
                            "url": "https://example.com/api/items",
                        },
                    }
                ],
            )
        ],
    )
)
