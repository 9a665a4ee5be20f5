"""Endpoint reference tables and code snippets, built from an endpoint's OpenAPI operation."""

from __future__ import annotations

import json
import pprint
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from catalog.clientgen import python as clientgen_python
from catalog.clientgen.model import words


@dataclass(frozen=True, slots=True)
class SchemaField:
    name: str
    type: str
    description: str
    required: bool


# Nested objects deeper than this are listed as "object" without their fields.
MAX_FIELD_DEPTH = 4


def _type_name(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(str(part) for part in kind)
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"array of {_type_name(schema['items'])}"
    if kind:
        return str(kind)
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(value) for value in schema["enum"])
    for combinator in ("oneOf", "anyOf"):
        if isinstance(schema.get(combinator), list):
            return " or ".join(_type_name(part) for part in schema[combinator] if isinstance(part, dict))
    return "any"


def schema_fields(schema: dict[str, Any], *, prefix: str = "", depth: int = 0) -> list[SchemaField]:
    """Flatten an object schema's properties into rows; nested fields get dotted names, array items ``[]``."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    required = set(schema.get("required") or [])
    fields = []
    for name, subschema in properties.items():
        if not isinstance(subschema, dict):
            continue
        full_name = f"{prefix}{name}"
        fields.append(
            SchemaField(
                name=full_name,
                type=_type_name(subschema),
                description=str(subschema.get("description", "")),
                required=name in required,
            )
        )
        if depth + 1 < MAX_FIELD_DEPTH:
            if subschema.get("type") == "object":
                fields += schema_fields(subschema, prefix=f"{full_name}.", depth=depth + 1)
            items = subschema.get("items")
            if subschema.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object":
                fields += schema_fields(items, prefix=f"{full_name}[].", depth=depth + 1)
    return fields


def _go_string(text: str) -> str:
    # A raw string literal cannot contain a backtick; fall back to an interpreted literal.
    return f"`{text}`" if "`" not in text else json.dumps(text)


def _kebab(name: str) -> str:
    """Spell a field or endpoint name as the m3o command line tool does: ``destinationURL`` as ``destination-url``."""
    return "-".join(words(name))


def _cli_flag(name: str, value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"--{_kebab(name)}={shlex.quote(text)}"


def _python_call(service: str, endpoint: str, request: dict[str, Any], fields: Iterable[str] | None) -> str:
    """Return the Python client call: the typed method when every field is a known parameter, else client.call."""
    known = set(fields) if fields is not None else set()
    if request.keys() <= known:
        arguments = ", ".join(
            f"{clientgen_python.identifier(name)}={pprint.pformat(value, width=76, sort_dicts=False)}"
            for name, value in request.items()
        )
        method = f"client.{clientgen_python.identifier(service)}.{clientgen_python.snake(endpoint)}"
        return f"print({method}({arguments}))"
    body = pprint.pformat(request, indent=4, width=84, sort_dicts=False)
    return f"print(client.call({service!r}, {endpoint!r}, {body}))"


def snippets(
    *, base_url: str, service: str, endpoint: str, request: dict[str, Any], fields: Iterable[str] | None = None
) -> dict[str, str]:
    """Return code calling ``service/endpoint`` with ``request``, keyed by language.

    Each snippet reads the key from the M3O_API_TOKEN environment variable, as
    the m3o clients and command line tool do. ``fields`` are the request
    schema's property names; with them the Python snippet uses the typed method.
    """
    url = f"{base_url}/v1/{service}/{endpoint}"
    compact = json.dumps(request, ensure_ascii=False)
    cli_flags = " ".join(_cli_flag(name, value) for name, value in request.items())
    return {
        "curl": (
            f'curl {shlex.quote(url)} \\\n  -H "Authorization: Bearer $M3O_API_TOKEN" \\\n'
            f"  -H 'Content-Type: application/json' \\\n  -d {shlex.quote(compact)}"
        ),
        "python": (
            "# pip install m3o-client (from clients/python of the platform)\n"
            "import os\n\nfrom m3o import Client\n\n"
            f'client = Client(os.environ["M3O_API_TOKEN"], address={json.dumps(base_url)})\n'
            + _python_call(service, endpoint, request, fields)
        ),
        "javascript": (
            f"const response = await fetch({json.dumps(url)}, {{\n"
            '  method: "POST",\n'
            "  headers: {\n"
            "    Authorization: `Bearer ${process.env.M3O_API_TOKEN}`,\n"
            '    "Content-Type": "application/json",\n'
            "  },\n"
            f"  body: JSON.stringify({json.dumps(request, indent=2, ensure_ascii=False).replace(chr(10), chr(10) + '  ')}),\n"
            "});\n"
            "console.log(await response.json());"
        ),
        "go": (
            "package main\n\n"
            'import (\n\t"fmt"\n\t"io"\n\t"net/http"\n\t"os"\n\t"strings"\n)\n\n'
            "func main() {\n"
            f"\tbody := strings.NewReader({_go_string(compact)})\n"
            f'\treq, err := http.NewRequest("POST", {json.dumps(url)}, body)\n'
            "\tif err != nil {\n\t\tpanic(err)\n\t}\n"
            '\treq.Header.Set("Authorization", "Bearer "+os.Getenv("M3O_API_TOKEN"))\n'
            '\treq.Header.Set("Content-Type", "application/json")\n'
            "\tresp, err := http.DefaultClient.Do(req)\n"
            "\tif err != nil {\n\t\tpanic(err)\n\t}\n"
            "\tdefer resp.Body.Close()\n"
            "\tout, _ := io.ReadAll(resp.Body)\n"
            "\tfmt.Println(string(out))\n"
            "}"
        ),
        "cli": f"m3o {service} {_kebab(endpoint)} {cli_flags}".rstrip(),
    }
