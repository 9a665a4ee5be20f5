"""A language-neutral model of the platform's OpenAPI document, for the client generators.

The generators never read the OpenAPI document themselves. This module turns
it into services, endpoints and named record types once, with every list
sorted. So the generated code is the same whichever database stored the
schemas, although PostgreSQL's jsonb does not keep the order of object keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

PRICE_PARAGRAPH = "Price per successful call:"


@dataclass(frozen=True)
class Type:
    """A JSON value's type: a primitive, a list, a map, a named record, an enum or anything."""

    kind: str  # string, integer, number, boolean, any, array, map, record, enum
    item: Type | None = None  # array items and map values
    name: str = ""  # record name
    values: tuple[str, ...] = ()  # enum values


ANY = Type("any")


@dataclass
class Field:
    name: str  # the JSON name
    type: Type
    required: bool
    description: str
    default: Any = None
    has_default: bool = False


@dataclass
class Record:
    name: str
    description: str
    fields: list[Field]


@dataclass
class Endpoint:
    name: str  # as in the path: Call, ListKeys
    description: str
    request: Type
    response: Type
    streaming: bool


@dataclass
class Service:
    slug: str
    description: str
    endpoints: list[Endpoint] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)


@dataclass
class Platform:
    title: str
    address: str
    services: list[Service]


def words(name: str) -> list[str]:
    """Split ``orderBy``, ``order_by``, ``ListKeys`` or ``shortURL`` into lower-case words."""
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)
    return [part.lower() for part in parts] or ["x"]


def pascal(name: str) -> str:
    return "".join(word.capitalize() for word in words(name))


def _description(operation: dict[str, Any]) -> str:
    # The price changes over time; it belongs in the catalog, not in committed code.
    paragraphs = [p for p in str(operation.get("description", "")).split("\n\n") if not p.startswith(PRICE_PARAGRAPH)]
    return "\n\n".join(paragraphs).strip() or str(operation.get("summary", ""))


class _Builder:
    """Collects one service's named records, naming nested objects after their parent and field."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}

    def _unique(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self.records:
            candidate, number = f"{name}{number}", number + 1
        return candidate

    def type_of(self, schema: Any, name: str) -> Type:
        if not isinstance(schema, dict):
            return ANY
        kind = schema.get("type")
        if kind is None and isinstance(schema.get("properties"), dict):
            kind = "object"
        if kind == "string":
            enum = schema.get("enum")
            if isinstance(enum, list) and enum and all(isinstance(value, str) for value in enum):
                return Type("enum", values=tuple(enum))
            return Type("string")
        if kind in ("integer", "number", "boolean"):
            return Type(kind)
        if kind == "array":
            return Type("array", item=self.type_of(schema.get("items"), name))
        if kind == "object":
            properties = schema.get("properties")
            extra = schema.get("additionalProperties")
            if isinstance(properties, dict) and (properties or extra is False):
                # An object that allows no fields at all is a record without fields, not a free-form map.
                return self.record(schema, name)
            return Type("map", item=self.type_of(extra, name) if isinstance(extra, dict) else ANY)
        return ANY

    def record(self, schema: dict[str, Any], name: str) -> Type:
        name = self._unique(name)
        record = Record(name=name, description=str(schema.get("description", "")), fields=[])
        self.records[name] = record  # reserve the name before naming nested records
        required = set(schema.get("required") or [])
        for field_name in sorted(schema["properties"]):
            prop = schema["properties"][field_name]
            prop = prop if isinstance(prop, dict) else {}
            record.fields.append(
                Field(
                    name=field_name,
                    type=self.type_of(prop, name + pascal(field_name)),
                    required=field_name in required,
                    description=str(prop.get("description", "")),
                    default=prop.get("default"),
                    has_default="default" in prop,
                )
            )
        return Type("record", name=name)


def _content_schema(part: dict[str, Any]) -> Any:
    return part.get("content", {}).get("application/json", {}).get("schema")


def platform_model(document: dict[str, Any]) -> Platform:
    """Build the model of an OpenAPI document from catalog.openapi, services and endpoints sorted by name."""
    descriptions = {tag["name"]: str(tag.get("description", "")) for tag in document.get("tags", [])}
    services: dict[str, Service] = {}
    builders: dict[str, _Builder] = {}
    for path in sorted(document.get("paths", {})):
        operation = document["paths"][path].get("post")
        match = re.fullmatch(r"/v1/([^/]+)/([^/]+)", path)
        if not operation or not match:
            continue
        slug, endpoint_name = match.groups()
        service = services.setdefault(slug, Service(slug=slug, description=descriptions.get(slug, slug)))
        builder = builders.setdefault(slug, _Builder())
        service.endpoints.append(
            Endpoint(
                name=endpoint_name,
                description=_description(operation),
                request=builder.type_of(_content_schema(operation.get("requestBody", {})), f"{endpoint_name}Request"),
                response=builder.type_of(_content_schema(operation["responses"].get("200", {})), f"{endpoint_name}Response"),
                streaming=bool(operation.get("x-m3o-streaming")),
            )
        )
    for slug, service in services.items():
        service.endpoints.sort(key=lambda endpoint: endpoint.name)
        service.records = [builders[slug].records[name] for name in sorted(builders[slug].records)]
    servers = document.get("servers") or [{"url": "http://127.0.0.1:8000"}]
    return Platform(
        title=str(document.get("info", {}).get("title", "M3O API")),
        address=str(servers[0]["url"]).rstrip("/"),
        services=[services[slug] for slug in sorted(services)],
    )
