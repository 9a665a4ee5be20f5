"""Checks on what code or an operator declares: JSON Schemas and examples.

Each function returns a list of readable problems (empty when all is well), so
admin forms, the sync of built-in services and tests report them the same way.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

# A {field} placeholder in an upstream path, filled from the request body.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# Schema types the gateway can validate a request body against: only objects.
OBJECT_TYPES = {"object", None}


def schema_problems(schema: Any, *, label: str) -> list[str]:
    if not isinstance(schema, dict):
        return [f"The {label} must be a JSON object, not {type(schema).__name__}."]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        location = "/".join(str(part) for part in exc.path) or "(top level)"
        return [f"The {label} is not a valid JSON Schema at {location}: {exc.message}"]
    if schema.get("type") not in OBJECT_TYPES:
        return [f'The {label} must describe a JSON object ("type": "object"), not {schema.get("type")!r}.']
    return []


def instance_problems(instance: Any, schema: dict[str, Any], *, label: str) -> list[str]:
    if not schema:
        return []
    validator = Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(instance), key=lambda error: list(error.absolute_path)):
        location = ".".join(str(part) for part in error.absolute_path) or "(body)"
        problems.append(f"{label} at {location}: {error.message}")
    return problems


def examples_problems(
    examples: Any, *, request_schema: dict[str, Any], response_schema: dict[str, Any]
) -> list[str]:
    """Check the shape of each example and its request against the request schema."""
    if not isinstance(examples, list):
        return ['Examples must be a JSON list of {"title", "request", "response"} objects.']
    problems: list[str] = []
    for number, example in enumerate(examples, start=1):
        if not isinstance(example, dict):
            problems.append(f'Example {number} must be an object with "title", "request" and "response".')
            continue
        unknown = sorted(set(example) - {"title", "request", "response"})
        if unknown:
            problems.append(f"Example {number} has unknown keys: {', '.join(unknown)}.")
        title = example.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.append(f'Example {number} needs a non-empty "title" string.')
        request = example.get("request")
        response = example.get("response")
        if not isinstance(request, dict):
            problems.append(f'Example {number} needs a "request" object.')
        else:
            problems.extend(instance_problems(request, request_schema, label=f"Example {number} request"))
        if not isinstance(response, dict):
            problems.append(f'Example {number} needs a "response" object.')
        else:
            problems.extend(instance_problems(response, response_schema, label=f"Example {number} response"))
    return problems
