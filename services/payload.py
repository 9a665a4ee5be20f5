"""Parsing and validating gateway request bodies.

Every failure raises an ApiError (400 or 413), so no malformed body reaches a
handler, costs anything or causes a 500.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from catalog.validation import SchemaValidator
from m3o_web.errors import BadRequest, LengthRequired, PayloadTooLarge, UnsupportedMediaType

# A validation error lists at most this many fields, so a body with thousands
# of unknown keys cannot produce a response larger than itself.
MAX_REPORTED_FIELDS = 50


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Above this a float cannot hold every integer: 9007199254740993.0 decodes as 9007199254740992.
MAX_EXACT_INTEGER = 2**53


def _finite_float(text: str) -> float | int:
    """Decode a JSON number with a fraction or exponent; a whole number within float precision becomes an int.

    JSON Schema counts 1023.0 as an integer, and handlers use integer fields
    as sizes, counts and indexes, which a float breaks. Decoding it as 1023
    lets no float reach an integer field: _VALIDATOR_CLASS refuses the floats
    left over, and a "number" field accepts the int.
    """
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text} is too large")
    if number.is_integer() and abs(number) <= MAX_EXACT_INTEGER:
        return int(number)
    return number


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_large(size: int, max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is {size} bytes; the limit is {max_bytes} bytes. Send a smaller body.")


def read_body(request: HttpRequest, *, max_bytes: int) -> bytes:
    """Read the raw body, refusing compressed, chunked and oversized bodies before reading them."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in {"", "identity"}:
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding!r} is not supported. Send the JSON body uncompressed."
        )
    if "Transfer-Encoding" in request.headers:
        # WSGI servers pass a chunked body on without a length, and Django then reads none of it.
        raise LengthRequired("Chunked request bodies are not supported. Send the body with a Content-Length header.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("The Content-Length header is not a number.", error_id="v1.bad_request") from None
    if declared > max_bytes:
        raise _too_large(declared, max_bytes)
    try:
        return request.body
    except RequestDataTooBig:
        raise _too_large(declared, max_bytes) from None


def parse_body(raw: bytes, *, max_bytes: int, max_depth: int) -> dict[str, Any]:
    """Decode a request body into a JSON object; an empty body is ``{}``."""
    if len(raw) > max_bytes:
        raise _too_large(len(raw), max_bytes)
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
        body = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid UTF-8. Send JSON encoded as UTF-8.", error_id="v1.bad_json") from None
    except RecursionError:
        raise BadRequest(
            f"The request body is nested too deeply; the limit is {max_depth} levels.", error_id="v1.bad_json"
        ) from None
    except ValueError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.", error_id="v1.bad_json") from None
    if not isinstance(body, dict):
        raise BadRequest(
            f"The request body must be a JSON object, not {type(body).__name__}. Send for example {{\"name\": \"Alice\"}}.",
            error_id="v1.bad_json",
        )
    if _depth_exceeds(body, max_depth):
        raise BadRequest(
            f"The request body is nested too deeply; the limit is {max_depth} levels.", error_id="v1.bad_json"
        )
    # Only a \u escape can put a NUL or a lone surrogate into a string, so most bodies skip the walk.
    if "\\u" in text:
        path = unstorable_path(body, "")
        if path is not None:
            raise BadRequest(
                f"Invalid {path or '(body)'}: a string contains a NUL character (\\u0000) or an unpaired surrogate, "
                "which no service accepts. Remove it, or send the text base64-encoded.",
                error_id="v1.bad_json",
                fields={path or "(body)": "Contains a NUL character or invalid Unicode."},
            )
    return body


def unstorable_path(value: Any, path: str) -> str | None:
    """Return the path of the first string (key or value) with a NUL character or a lone surrogate, or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return path
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_path(key, path) or unstorable_path(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _is_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


# SchemaValidator (Draft 2020-12 with ECMA-262 anchors), except that "integer" means a JSON
# number decoded as an int (see _finite_float).
_VALIDATOR_CLASS = validators.extend(
    SchemaValidator, type_checker=SchemaValidator.TYPE_CHECKER.redefine("integer", _is_integer)
)


@lru_cache(maxsize=1024)
def _validator(schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    Draft202012Validator.check_schema(schema)
    return _VALIDATOR_CLASS(schema)


def _field_path(path: list[Any]) -> str:
    return ".".join(str(part) for part in path) or "(body)"


def _describe(error: ValidationError) -> dict[str, str]:
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return {_field_path([*path, name]): "This field is required." for name in missing}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        unknown = [name for name in error.instance if name not in allowed]
        return {_field_path([*path, name]): "Unknown field." for name in unknown}
    return {_field_path(path): error.message}


# Validators by the identity of the schema object: the catalog cache hands the gateway the
# same endpoint, and so the same schema dict, on every call until the catalog changes.
# Each entry keeps its schema alive, so no other object can take its id meanwhile.
_by_identity: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}


def _validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    entry = _by_identity.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    validator = _validator(json.dumps(schema, sort_keys=True))
    if len(_by_identity) >= 1024:
        _by_identity.clear()
    _by_identity[id(schema)] = (schema, validator)
    return validator


def validate_body(body: dict[str, Any], schema: dict[str, Any]) -> None:
    """Raise BadRequest with a ``fields`` map naming every field that breaks the schema."""
    if not schema:
        return
    validator = _validator_for(schema)
    fields: dict[str, str] = {}
    for error in validator.iter_errors(body):
        for name, message in _describe(error).items():
            if len(fields) < MAX_REPORTED_FIELDS:
                fields.setdefault(name, message)
    if fields:
        names = sorted(fields)
        listed = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise BadRequest(
            f"The request body is invalid: check {listed}. See the endpoint's docs for the expected fields.",
            error_id="v1.invalid_request",
            fields=fields,
        )
