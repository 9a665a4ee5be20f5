"""Checks on what code or an operator declares: JSON Schemas and examples.

Each function returns a list of readable problems (empty when all is well), so
admin forms, the sync of built-in services and tests report them the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError

# A {field} placeholder in an upstream path, filled from the request body.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# Schema types the gateway can validate a request body against: only objects.
OBJECT_TYPES = {"object", None}


@lru_cache(maxsize=1024)
def schema_regex(pattern: str) -> re.Pattern[str]:
    """Compile a JSON Schema pattern so that "$" means what it means in ECMA-262: the end of the string.

    Python's "$" also matches before a final newline, so "^[a-z]+$" would
    accept "orders\\n". Each "$" outside a character class and not escaped
    becomes "\\Z", which matches only at the very end.
    """
    translated: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            translated.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # A "]" first in a class (or after "^") is literal.
            following = pattern[index + 1 : index + 3]
            if following.startswith("]") or following == "^]":
                translated.append(pattern[index : index + 1 + following.index("]") + 1])
                index += 1 + following.index("]") + 1
                continue
        elif char == "$":
            translated.append(r"\Z")
            index += 1
            continue
        translated.append(char)
        index += 1
    return re.compile("".join(translated))


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not schema_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if schema_regex(pattern).search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


# Draft 2020-12, with "$" in patterns anchored as in ECMA-262 (see schema_regex).
SchemaValidator = validators.extend(
    Draft202012Validator, validators={"pattern": _pattern, "patternProperties": _pattern_properties}
)


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
    validator = SchemaValidator(schema)
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
