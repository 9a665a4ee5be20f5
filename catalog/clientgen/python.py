"""The Python client's generated part: one module per service and the aggregate Client."""

from __future__ import annotations

import keyword
import re
import textwrap

from catalog.clientgen.model import Endpoint, Platform, Record, Service, Type, words

ROOT = "python/src/m3o"


def identifier(name: str) -> str:
    name = re.sub(r"\W", "_", name)
    if not name or name[0].isdigit():
        name = "_" + name
    return name + "_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name


# The aggregate client's own members; a service with one of these names gets the attribute "<name>_service".
CLIENT_MEMBERS = frozenset({"call", "stream", "close", "transport"})


def service_attribute(slug: str) -> str:
    """Return the aggregate client's attribute for a service, clear of the client's own members."""
    name = identifier(slug)
    return f"{name}_service" if name in CLIENT_MEMBERS else name


def snake(name: str) -> str:
    return identifier("_".join(words(name)))


def class_name(slug: str) -> str:
    return "".join(word.capitalize() for word in words(slug)) + "Service"


def annotation(kind: Type) -> str:
    match kind.kind:
        case "string":
            return "str"
        case "integer":
            return "int"
        case "number":
            return "float"
        case "boolean":
            return "bool"
        case "enum":
            return "Literal[" + ", ".join(repr(value) for value in kind.values) + "]"
        case "array":
            return f"list[{annotation(kind.item or Type('any'))}]"
        case "map":
            return f"dict[str, {annotation(kind.item or Type('any'))}]"
        case "record":
            return kind.name
    return "Any"


def _clean(text: str) -> str:
    return text.strip().replace("\\", "\\\\").replace('"""', "'''")


def _quote(lines: list[str], indent: str) -> str:
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return ""
    if len(lines) == 1:
        return f'{indent}"""{lines[0]}"""\n'
    body = "\n".join(indent + line if line else "" for line in lines[1:])
    return f'{indent}"""{lines[0]}\n{body}\n{indent}"""\n'


def _docstring(text: str, indent: str, args: list[str] | None = None) -> str:
    width = 100 - len(indent)
    lines: list[str] = []
    for paragraph in _clean(text).split("\n\n"):
        lines.extend(textwrap.wrap(paragraph, width))
        lines.append("")
    if args:
        lines.append("Args:")
        for arg in args:
            lines.extend(textwrap.wrap(_clean(arg), width, initial_indent="    ", subsequent_indent="        "))
    return _quote(lines, indent)


def _record(record: Record) -> str:
    plain = all(f.name.isidentifier() and not keyword.iskeyword(f.name) for f in record.fields)
    if not plain:
        # Names such as "from" cannot be class attributes; the functional form keeps them.
        items = ", ".join(
            f"{f.name!r}: {annotation(f.type) if f.required else f'NotRequired[{annotation(f.type)}]'}"
            for f in record.fields
        )
        return f"{record.name} = TypedDict({record.name!r}, {{{items}}})\n"
    out = f"class {record.name}(TypedDict):\n"
    out += _docstring(record.description, "    ")
    if not record.fields and not record.description:
        out += "    pass\n"
    for f in record.fields:
        out += "".join(f"    # {line}\n" for line in textwrap.wrap(f.description, 94))
        kind = annotation(f.type)
        out += f"    {f.name}: {kind if f.required else f'NotRequired[{kind}]'}\n"
    return out


def _method(service: Service, endpoint: Endpoint, records: dict[str, Record]) -> str:
    response = annotation(endpoint.response)
    returns = f"Iterator[{response}]" if endpoint.streaming else response
    request = records.get(endpoint.request.name) if endpoint.request.kind == "record" else None
    if request is not None:
        params, body, docs = [], [], []
        for f in sorted(request.fields, key=lambda f: not f.required):
            param = identifier(f.name)
            kind = annotation(f.type)
            params.append(f"{param}: {kind}" if f.required else f"{param}: {kind} | None = None")
            body.append(f"{f.name!r}: {param}")
            if f.description:
                docs.append(f"{param}: {f.description}")
        signature = f"self, *, {', '.join(params)}" if params else "self"
        payload = "compact({" + ", ".join(body) + "})" if body else "{}"
    else:
        signature, payload, docs = "self, body: dict[str, Any] | None = None", "body or {}", []
    verb = "stream" if endpoint.streaming else "call"
    out = f"    def {snake(endpoint.name)}({signature}) -> {returns}:\n"
    out += _docstring(endpoint.description, "        ", docs)
    out += f"        return self._transport.{verb}({service.slug!r}, {endpoint.name!r}, {payload})  # type: ignore[no-any-return]\n"
    return out


def _service_module(service: Service, marker: str) -> str:
    records = {record.name: record for record in service.records}
    header = f"# {marker}\n" + _docstring(f"{service.slug}: {service.description}", "")
    imports = header + "\nfrom __future__ import annotations\n\n"
    if any(endpoint.streaming for endpoint in service.endpoints):
        imports += "from collections.abc import Iterator\n"
    imports += "from typing import Any, Literal, NotRequired, TypedDict  # noqa: F401\n\n"
    imports += "from m3o._transport import Transport, compact  # noqa: F401"
    parts = [imports]
    parts.extend(_record(record).rstrip("\n") for record in service.records)
    methods = [f"class {class_name(service.slug)}:\n" + _docstring(service.description, "    ")
               + "\n    def __init__(self, transport: Transport) -> None:\n        self._transport = transport"]
    methods.extend(_method(service, endpoint, records).rstrip("\n") for endpoint in service.endpoints)
    parts.append("\n\n".join(methods))
    return "\n\n\n".join(parts) + "\n"


def _client_module(platform: Platform, marker: str) -> str:
    imports = "\n".join(
        f"from m3o.services.{identifier(service.slug)} import {class_name(service.slug)}" for service in platform.services
    )
    attributes = "\n".join(
        f"        self.{service_attribute(service.slug)} = {class_name(service.slug)}(self.transport)"
        for service in platform.services
    )
    return f'''# {marker}
"""The aggregate client: one attribute per service."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx

from m3o._transport import DEFAULT_TIMEOUT, Transport, address_from_env
{imports}

DEFAULT_ADDRESS = {platform.address!r}


class Client:
    """Calls the platform with one API key.

    ``token`` defaults to M3O_API_TOKEN, ``address`` to M3O_API_ADDRESS, else DEFAULT_ADDRESS.
    Errors are raised as m3o.APIError subclasses (the envelope) or m3o.TransportError.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        address: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        http: httpx.Client | None = None,
    ) -> None:
        self.transport = Transport(token, address=address or address_from_env(DEFAULT_ADDRESS), timeout=timeout, http=http)
{attributes}

    def call(self, service: str, endpoint: str, body: dict[str, Any] | None = None) -> Any:
        """Call any endpoint by name, such as one newer than this client."""
        return self.transport.call(service, endpoint, body)

    def stream(self, service: str, endpoint: str, body: dict[str, Any] | None = None) -> Iterator[Any]:
        """Read the messages of a stream endpoint, as newline-delimited JSON over POST."""
        return self.transport.stream(service, endpoint, body)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()
'''


def generate(platform: Platform, marker: str) -> dict[str, str]:
    files = {f"{ROOT}/_client.py": _client_module(platform, marker)}
    names = ", ".join(repr(identifier(service.slug)) for service in platform.services)
    files[f"{ROOT}/services/__init__.py"] = f'# {marker}\n"""One module per service."""\n\n__all__ = [{names}]\n'
    for service in platform.services:
        files[f"{ROOT}/services/{identifier(service.slug)}.py"] = _service_module(service, marker)
    return files
