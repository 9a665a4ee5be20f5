"""The Go client's generated part: one package per service and the aggregate m3o package.

The output is already gofmt-formatted: struct fields are separated by blank
lines, so gofmt has no columns to align and the generator needs no Go toolchain.
"""

from __future__ import annotations

import json
import re
import textwrap

from catalog.clientgen.model import Endpoint, Platform, Record, Service, Type, words

ROOT = "go"
DEFAULT_MODULE = "m3o.local/m3o"
INITIALISMS = {"api", "db", "dst", "html", "http", "id", "ip", "json", "otp", "qr", "ttl", "uri", "url", "utc", "uuid"}
KEYWORDS = {
    "break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for", "func", "go",
    "goto", "if", "import", "interface", "map", "package", "range", "return", "select", "struct", "switch", "type",
    "var",
}
# Names the generated files use themselves, so a service package may not take them.
TAKEN = {"context", "transport", "m3o"}


# The methods the aggregate client promotes from transport.Client; a service field with one of
# these names would hide the method, so the field becomes "<Name>Service".
CLIENT_MEMBERS = frozenset({"Call", "Stream"})


def service_field(slug: str) -> str:
    """Return the aggregate client's field for a service, clear of the client's own methods."""
    name = exported(slug)
    return f"{name}Service" if name in CLIENT_MEMBERS else name


def exported(name: str) -> str:
    return "".join(word.upper() if word in INITIALISMS else word.capitalize() for word in words(name))


def package_name(slug: str) -> str:
    name = re.sub(r"[^a-z0-9]", "", slug.lower()) or "service"
    if name[0].isdigit() or name in KEYWORDS or name in TAKEN:
        name = "svc" + name
    return name


def go_type(kind: Type, *, pointer: bool = False) -> str:
    match kind.kind:
        case "string" | "enum":
            base = "string"
        case "integer":
            base = "int64"
        case "number":
            base = "float64"
        case "boolean":
            base = "bool"
        case "array":
            return "[]" + go_type(kind.item or Type("any"))
        case "map":
            return "map[string]" + go_type(kind.item or Type("any"))
        case "record":
            base = kind.name
        case _:
            return "any"
    return "*" + base if pointer else base


def _zero(kind: Type, value: object) -> bool:
    return value in (None, "", 0, False) or (kind.kind in ("array", "map") and not value)


def _comment(text: str, indent: str) -> str:
    text = text.strip()
    if not text:
        return ""
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        lines.extend(textwrap.wrap(paragraph, 96 - len(indent)))
        lines.append("")
    lines.pop()
    return "".join(f"{indent}//{' ' + line if line else ''}\n" for line in lines)


def _struct(record: Record, purpose: str) -> str:
    out = _comment(f"{record.name} is {purpose}." + (f" {record.description}" if record.description else ""), "")
    out += f"type {record.name} struct {{\n"
    fields = []
    for f in record.fields:
        # A field with a non-zero default, or a nested record, is a pointer so
        # that leaving it out differs from sending its zero value.
        pointer = not f.required and (f.type.kind == "record" or (f.has_default and not _zero(f.type, f.default)))
        tag = f.name if f.required else f"{f.name},omitempty"
        doc = f.description
        if f.type.kind == "enum":
            doc = (doc + " " if doc else "") + "One of: " + ", ".join(f.type.values) + "."
        if f.has_default:
            doc = (doc + " " if doc else "") + f"Default: {json.dumps(f.default)}."
        fields.append(_comment(doc, "\t") + f'\t{exported(f.name)} {go_type(f.type, pointer=pointer)} `json:"{tag}"`\n')
    return out + "\n".join(fields) + "}\n"


def _purpose(service: Service) -> dict[str, str]:
    purposes = {}
    for endpoint in service.endpoints:
        if endpoint.request.kind == "record":
            purposes[endpoint.request.name] = f"the request of {endpoint.name}"
        if endpoint.response.kind == "record":
            purposes[endpoint.response.name] = f"the response of {endpoint.name}"
    return purposes


def _method(service: Service, endpoint: Endpoint) -> str:
    request = "*" + endpoint.request.name if endpoint.request.kind == "record" else go_type(endpoint.request)
    response = endpoint.response.name if endpoint.response.kind == "record" else None
    doc = _comment(f"{endpoint.name}: {endpoint.description}", "")
    name = exported(endpoint.name)
    service_id, endpoint_id = json.dumps(service.slug), json.dumps(endpoint.name)
    if endpoint.streaming:
        message = response or go_type(endpoint.response)
        return (
            doc + f"func (s *Service) {name}(ctx context.Context, req {request}) (*transport.Stream[{message}], error) {{\n"
            f"\treturn transport.OpenStream[{message}](ctx, s.client, {service_id}, {endpoint_id}, req)\n}}\n"
        )
    if response:
        return (
            doc + f"func (s *Service) {name}(ctx context.Context, req {request}) (*{response}, error) {{\n"
            f"\trsp := &{response}{{}}\n"
            f"\tif err := s.client.Call(ctx, {service_id}, {endpoint_id}, req, rsp); err != nil {{\n\t\treturn nil, err\n\t}}\n"
            "\treturn rsp, nil\n}\n"
        )
    kind = go_type(endpoint.response)
    return (
        doc + f"func (s *Service) {name}(ctx context.Context, req {request}) ({kind}, error) {{\n"
        f"\tvar rsp {kind}\n"
        f"\terr := s.client.Call(ctx, {service_id}, {endpoint_id}, req, &rsp)\n"
        "\treturn rsp, err\n}\n"
    )


def _package(service: Service, marker: str, module: str) -> str:
    name = package_name(service.slug)
    purposes = _purpose(service)
    parts = [
        f"// {marker}\n\n" + _comment(f"Package {name} calls the {service.slug} service: {service.description}", "")
        + f"package {name}\n\nimport (\n\t\"context\"\n\n\t\"{module}/transport\"\n)",
        f"// Service calls the {service.slug} endpoints.\ntype Service struct {{\n\tclient *transport.Client\n}}",
        f"// New returns the {service.slug} service on a transport client.\n"
        "func New(client *transport.Client) *Service {\n\treturn &Service{client: client}\n}",
    ]
    parts.extend(_struct(record, purposes.get(record.name, "part of a request or response")).rstrip("\n")
                 for record in service.records)
    parts.extend(_method(service, endpoint).rstrip("\n") for endpoint in service.endpoints)
    return "\n\n".join(parts) + "\n"


def _root(platform: Platform, marker: str, module: str) -> str:
    packages = sorted([*(package_name(s.slug) for s in platform.services), "transport"])
    imports = "".join(f'\t"{module}/{name}"\n' for name in packages)
    fields = "\n".join(
        _comment(f"{service_field(s.slug)}: {s.description}", "\t")
        + f"\t{service_field(s.slug)} *{package_name(s.slug)}.Service\n"
        for s in platform.services
    )
    assignments = "".join(f"\tc.{service_field(s.slug)} = {package_name(s.slug)}.New(client)\n" for s in platform.services)
    return f"""// {marker}

// Package m3o is the aggregate client: New(token) gives one field per service.
package m3o

import (
{imports})

// DefaultAddress is the address calls go to unless WithAddress or M3O_API_ADDRESS sets another.
const DefaultAddress = {json.dumps(platform.address)}

// Error is the platform's error envelope; use errors.As to read it.
type Error = transport.Error

// Option configures a client.
type Option = transport.Option

// WithAddress sets the platform's base URL.
var WithAddress = transport.WithAddress

// WithTimeout sets how long a call may take.
var WithTimeout = transport.WithTimeout

// WithHTTPClient sets the HTTP client calls go through.
var WithHTTPClient = transport.WithHTTPClient

// Client calls every service with one API key. Call and Stream reach any
// endpoint by name, such as one newer than this client.
type Client struct {{
\t*transport.Client

{fields}}}

// New returns a client that authenticates with the API key token.
func New(token string, opts ...Option) *Client {{
\tclient := transport.New(token, DefaultAddress, opts...)
\tc := &Client{{Client: client}}
{assignments}\treturn c
}}
"""


def generate(platform: Platform, marker: str, *, module: str = DEFAULT_MODULE) -> dict[str, str]:
    files = {f"{ROOT}/m3o.go": _root(platform, marker, module)}
    for service in platform.services:
        name = package_name(service.slug)
        files[f"{ROOT}/{name}/{name}.go"] = _package(service, marker, module)
    return files
