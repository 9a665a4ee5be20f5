"""The JavaScript client's generated part: one module and declaration file per service, and the index."""

from __future__ import annotations

import json
import re
import textwrap

from catalog.clientgen.model import Endpoint, Platform, Record, Service, Type, words

ROOT = "js/src"
IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def camel(name: str) -> str:
    parts = words(name)
    return parts[0] + "".join(part.capitalize() for part in parts[1:])


def class_name(slug: str) -> str:
    return "".join(word.capitalize() for word in words(slug)) + "Service"


# The M3O class's own members; a service with one of these names gets the property "<name>Service".
CLIENT_MEMBERS = frozenset({"call", "stream", "transport"})


def property_name(slug: str) -> str:
    name = slug if IDENTIFIER.fullmatch(slug) else camel(slug)
    return f"{name}Service" if name in CLIENT_MEMBERS else name


def ts_type(kind: Type) -> str:
    match kind.kind:
        case "string":
            return "string"
        case "integer" | "number":
            return "number"
        case "boolean":
            return "boolean"
        case "enum":
            return " | ".join(json.dumps(value) for value in kind.values)
        case "array":
            item = ts_type(kind.item or Type("any"))
            return f"Array<{item}>"
        case "map":
            return f"Record<string, {ts_type(kind.item or Type('any'))}>"
        case "record":
            return kind.name
    return "unknown"


def _comment(text: str, indent: str) -> str:
    text = text.strip().replace("*/", "* /")
    if not text:
        return ""
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        lines.extend(textwrap.wrap(paragraph, 96 - len(indent)))
        lines.append("")
    lines.pop()
    if len(lines) == 1:
        return f"{indent}/** {lines[0]} */\n"
    return f"{indent}/**\n" + "".join(f"{indent} *{' ' + line if line else ''}\n" for line in lines) + f"{indent} */\n"


def _interface(record: Record) -> str:
    out = _comment(record.description, "") + f"export interface {record.name} {{"
    out += "" if record.fields else "}\n"
    if not record.fields:
        return out
    out += "\n"
    for f in record.fields:
        key = f.name if IDENTIFIER.fullmatch(f.name) else json.dumps(f.name)
        out += _comment(f.description, "  ")
        out += f"  {key}{'' if f.required else '?'}: {ts_type(f.type)};\n"
    return out + "}\n"


def _request_type(endpoint: Endpoint) -> str:
    return ts_type(endpoint.request) if endpoint.request.kind != "any" else "Record<string, unknown>"


def _declarations(service: Service, marker: str) -> str:
    out = f"// {marker}\n\nimport type {{ Transport }} from \"../core.js\";\n\n"
    for record in service.records:
        out += _interface(record) + "\n"
    out += _comment(service.description, "") + f"export declare class {class_name(service.slug)} {{\n"
    out += "  constructor(transport: Transport);\n"
    for endpoint in service.endpoints:
        response = ts_type(endpoint.response)
        returns = f"AsyncGenerator<{response}, void, undefined>" if endpoint.streaming else f"Promise<{response}>"
        note = ""
        out += _comment(endpoint.description + note, "  ")
        optional = endpoint.request.kind != "record" or not any(
            f.required for r in service.records if r.name == endpoint.request.name for f in r.fields
        )
        out += f"  {camel(endpoint.name)}(request{'?' if optional else ''}: {_request_type(endpoint)}): {returns};\n"
    return out + "}\n"


def _module(service: Service, marker: str) -> str:
    out = f"// {marker}\n\n" + _comment(service.description, "") + f"export class {class_name(service.slug)} {{\n"
    out += "  constructor(transport) {\n    this.transport = transport;\n  }\n"
    for endpoint in service.endpoints:
        verb = "stream" if endpoint.streaming else "call"
        out += "\n" + _comment(endpoint.description, "  ")
        out += f"  {camel(endpoint.name)}(request = {{}}) {{\n"
        out += f"    return this.transport.{verb}({json.dumps(service.slug)}, {json.dumps(endpoint.name)}, request);\n  }}\n"
    return out + "}\n"


def _index(platform: Platform, marker: str) -> tuple[str, str]:
    imports = "".join(
        f'import {{ {class_name(s.slug)} }} from "./services/{s.slug}.js";\n' for s in platform.services
    )
    attributes = "".join(f"    this.{property_name(s.slug)} = new {class_name(s.slug)}(this.transport);\n" for s in platform.services)
    errors = "APIError, BadRequestError, ForbiddenError, M3OError, NotFoundError, PaymentRequiredError, RateLimitedError, ServerError, TransportError, UnauthorizedError, errorFromEnvelope"
    module = f"""// {marker}

import {{ Transport }} from "./core.js";
{imports}
export {{ {errors} }} from "./core.js";

export const DEFAULT_ADDRESS = {json.dumps(platform.address)};

/** Calls the platform with one API key: `new M3O(token).helloworld.call({{ name: "Alice" }})`. */
export class M3O {{
  constructor(token, options = {{}}) {{
    this.transport = new Transport(token, {{ ...options, defaultAddress: DEFAULT_ADDRESS }});
{attributes}  }}

  /** Call any endpoint by name, such as one newer than this client. */
  call(service, endpoint, request = {{}}) {{
    return this.transport.call(service, endpoint, request);
  }}

  /** Read a stream endpoint's messages: over a WebSocket where the runtime has one, else as NDJSON over POST. */
  stream(service, endpoint, request = {{}}) {{
    return this.transport.stream(service, endpoint, request);
  }}
}}

export default M3O;
"""
    type_imports = "".join(
        f'import type {{ {class_name(s.slug)} }} from "./services/{s.slug}.js";\n' for s in platform.services
    )
    type_attributes = "".join(
        _comment(s.description, "  ") + f"  readonly {property_name(s.slug)}: {class_name(s.slug)};\n" for s in platform.services
    )
    type_exports = "".join(f'export * as {property_name(s.slug)} from "./services/{s.slug}.js";\n' for s in platform.services)
    declarations = f"""// {marker}

import type {{ ClientOptions, Transport }} from "./core.js";
{type_imports}
export {{ {errors} }} from "./core.js";
export type {{ ClientOptions, ErrorEnvelope }} from "./core.js";
{type_exports}
export declare const DEFAULT_ADDRESS: string;

/** Calls the platform with one API key: `new M3O(token).helloworld.call({{ name: "Alice" }})`. */
export declare class M3O {{
  constructor(token?: string, options?: ClientOptions);
  readonly transport: Transport;
{type_attributes}  /** Call any endpoint by name, such as one newer than this client. */
  call<T = unknown>(service: string, endpoint: string, request?: unknown): Promise<T>;
  /** Read a stream endpoint's messages: over a WebSocket where the runtime has one, else as NDJSON over POST. */
  stream<T = unknown>(service: string, endpoint: string, request?: unknown): AsyncGenerator<T, void, undefined>;
}}

export default M3O;
"""
    return module, declarations


def generate(platform: Platform, marker: str) -> dict[str, str]:
    module, declarations = _index(platform, marker)
    files = {f"{ROOT}/index.js": module, f"{ROOT}/index.d.ts": declarations}
    for service in platform.services:
        files[f"{ROOT}/services/{service.slug}.js"] = _module(service, marker)
        files[f"{ROOT}/services/{service.slug}.d.ts"] = _declarations(service, marker)
    return files
