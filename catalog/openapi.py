"""OpenAPI 3.1 documents generated from the catalog, one per service and one for the platform.

These documents are the single description of the API: the service pages
render their endpoint reference from them, the gateway validates request
bodies against the same request schemas, and the playground and clients are
meant to read them. OpenAPI 3.1 uses JSON Schema 2020-12, so each endpoint's
schemas are embedded unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from catalog.models import Endpoint, Service
from m3o_web.money import dollars

OPENAPI_VERSION = "3.1.0"

# Error statuses every endpoint can return, in the envelope, with the usual ids.
ERROR_RESPONSES = {
    "400": ("Invalid request body; `fields` names each invalid field.", "v1.invalid_request"),
    "401": ("Missing, invalid, revoked or expired API key.", "v1.invalid_key"),
    "402": ("The balance does not cover the price of the call.", "v1.insufficient_credit"),
    "403": ("The account is suspended or the key may not call this service.", "v1.key_scope"),
    "404": ("No such service or endpoint.", "v1.not_found"),
    "413": ("The request body is over the size limit.", "v1.payload_too_large"),
    "422": ("The Idempotency-Key was used with a different request.", "v1.idempotency_mismatch"),
    "429": ("Rate limit reached; Retry-After says when to try again.", "v1.rate_limited"),
    "500": ("The platform failed; the call was not charged.", "v1.internal"),
    "503": ("A platform component is unavailable; not charged. Retry after Retry-After seconds.", "v1.database_unavailable"),
}
UPSTREAM_ERROR_RESPONSES = {
    "502": ("The upstream API failed or returned an invalid response; not charged.", "v1.upstream_error"),
    "504": ("The upstream API timed out; not charged.", "v1.upstream_timeout"),
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The error envelope every failed call returns.",
    "properties": {
        "id": {"type": "string", "description": "Machine-readable error id.", "examples": ["v1.insufficient_credit"]},
        "code": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What failed and what to do."},
        "status": {"type": "string", "description": "The HTTP status phrase."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Validation errors only: each invalid field and what is wrong with it.",
        },
    },
    "required": ["id", "code", "detail", "status"],
}


def operation_id(endpoint: Endpoint) -> str:
    return f"{endpoint.service.slug}_{endpoint.name}"


def _examples(endpoint: Endpoint, part: str) -> dict[str, Any]:
    examples = {}
    for number, example in enumerate(endpoint.examples, start=1):
        if isinstance(example, dict) and isinstance(example.get(part), dict):
            examples[f"example{number}"] = {"summary": str(example.get("title", "")), "value": example[part]}
    return examples


def _media(schema: dict[str, Any], examples: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema or {"type": "object"}}
    if examples:
        media["examples"] = examples
    return {"application/json": media}


def _operation(endpoint: Endpoint, price_units: int) -> dict[str, Any]:
    service = endpoint.service
    price = "free" if price_units == 0 else f"{price_units} units (US${dollars(price_units):.6f})"
    responses: dict[str, Any] = {
        "200": {
            "description": "Success. X-M3O-Cost is the charge in units, X-M3O-Balance the balance left.",
            "headers": {
                "X-Request-Id": {"$ref": "#/components/headers/RequestId"},
                "X-M3O-Cost": {"$ref": "#/components/headers/Cost"},
                "X-M3O-Balance": {"$ref": "#/components/headers/Balance"},
            },
            "content": _media(endpoint.response_schema, _examples(endpoint, "response")),
        }
    }
    errors = dict(ERROR_RESPONSES)
    if service.backend == Service.Backend.UPSTREAM:
        errors.update(UPSTREAM_ERROR_RESPONSES)
    responses.update({status: {"$ref": f"#/components/responses/Error{status}"} for status in errors})
    operation = {
        "operationId": operation_id(endpoint),
        "summary": endpoint.description.splitlines()[0][:120] if endpoint.description else endpoint.name,
        "description": f"{endpoint.description}\n\nPrice per successful call: {price}.".strip(),
        "tags": [service.slug],
        "requestBody": {
            "required": True,
            "content": _media(endpoint.request_schema, _examples(endpoint, "request")),
        },
        "responses": responses,
        "x-m3o-price-units": price_units,
        "x-m3o-free-quota": endpoint.free_quota,
        "x-m3o-streaming": endpoint.streaming,
    }
    if service.status == Service.Status.DEPRECATED:
        operation["deprecated"] = True
    return operation


def _components(*, upstream: bool) -> dict[str, Any]:
    errors = {**ERROR_RESPONSES, **(UPSTREAM_ERROR_RESPONSES if upstream else {})}
    return {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An M3O API key, m3o_..."},
            "basicAuth": {"type": "http", "scheme": "basic", "description": "The API key as the password."},
        },
        "schemas": {"Error": ERROR_SCHEMA},
        "headers": {
            "RequestId": {"description": "Id of this call, to quote to support.", "schema": {"type": "string"}},
            "Cost": {"description": "Units charged for this call.", "schema": {"type": "integer"}},
            "Balance": {"description": "Balance left in units.", "schema": {"type": "integer"}},
        },
        "responses": {
            f"Error{status}": {
                "description": description,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"},
                        "example": {"id": error_id, "code": int(status), "detail": description, "status": ""},
                    }
                },
            }
            for status, (description, error_id) in errors.items()
        },
    }


def _document(*, title: str, description: str, services: Iterable[Service], server_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    tags = []
    upstream = False
    for service in services:
        upstream = upstream or service.backend == Service.Backend.UPSTREAM
        tags.append({"name": service.slug, "description": service.tagline or service.name})
        for endpoint in service.endpoints.all():
            paths[f"/v1/{service.slug}/{endpoint.name}"] = {"post": _operation(endpoint, endpoint.price_units)}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": "1", "description": description},
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}, {"basicAuth": []}],
        "tags": tags,
        "paths": paths,
        "components": _components(upstream=upstream),
    }


def service_document(service: Service, *, server_url: str) -> dict[str, Any]:
    """Build the OpenAPI document of one service; ``service`` should come from services_listed()."""
    return _document(
        title=f"{service.name} API",
        description=service.tagline or service.name,
        services=[service],
        server_url=server_url,
    )


def platform_document(services: Iterable[Service], *, server_url: str) -> dict[str, Any]:
    """Build one OpenAPI document with every listed service."""
    return _document(
        title="M3O API",
        description="Every service on this platform, called with one API key through POST /v1/{service}/{endpoint}.",
        services=services,
        server_url=server_url,
    )
