"""The m3o command line tool.

Service commands are built at run time from the platform's catalog API
(/api/catalog/), so every service the platform lists has a command, with
one typed flag per request field:

    m3o helloworld call --name Alice
    m3o call helloworld Call '{"name": "Alice"}'
    m3o explore list
    m3o explore search cache
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

import httpx

from m3o._client import DEFAULT_ADDRESS
from m3o._transport import DEFAULT_TIMEOUT, Transport, address_from_env
from m3o.errors import APIError, TransportError, error_from_envelope

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_API = 3
EXIT_NETWORK = 4

STATIC_COMMANDS = ("call", "stream", "explore")
# A service named like a command above is reached as "<slug>-service", such as m3o stream-service.
COLLIDING_SERVICE_SUFFIX = "-service"
EPILOG = (
    "Environment: M3O_API_TOKEN is the API key; M3O_API_ADDRESS the platform's address "
    f"(default {DEFAULT_ADDRESS}).\n"
    f"Exit codes: {EXIT_OK} success, {EXIT_USAGE} usage error, {EXIT_API} API error (the error envelope), "
    f"{EXIT_NETWORK} network error."
)


class UsageError(Exception):
    """An invalid command line. Errors argparse finds itself exit with the same code."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# Catalog -----------------------------------------------------------------------------------------


class Catalog:
    """Reads the keyless catalog API of the platform."""

    def __init__(self, address: str, http: httpx.Client) -> None:
        self.address = address
        self.http = http

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        url = path if path.startswith("http") else f"{self.address}{path}"
        try:
            response = self.http.get(url, params=params, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise TransportError(f"Could not reach the catalog at {self.address}: {error}") from error
        try:
            body = response.json()
        except ValueError as error:
            raise TransportError(f"{url} returned HTTP {response.status_code} with a body that is not JSON. Is {self.address} an M3O platform?") from error
        if response.status_code >= 400:
            raise error_from_envelope(response.status_code, body, request_id=response.headers.get("X-Request-Id"))
        return body

    def services(self, query: str = "") -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        page: Any = self._get("/api/catalog/services/", {"q": query} if query else None)
        while True:
            results.extend(page.get("results", []))
            if not page.get("next"):
                return results
            page = self._get(page["next"])

    def service(self, slug: str) -> dict[str, Any]:
        return self._get(f"/api/catalog/services/{slug}/")  # type: ignore[no-any-return]


# Flags from JSON Schema -------------------------------------------------------------------------


def kebab(name: str) -> str:
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)
    return "-".join(part.lower() for part in parts) or name


def _json_value(kind: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = json.loads(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected JSON ({kind}), got {text!r}") from None
        expected = {"object": dict, "array": list}.get(kind)
        if expected is not None and not isinstance(value, expected):
            raise argparse.ArgumentTypeError(f"expected a JSON {kind}, got {text!r}")
        return value

    parse.__name__ = f"JSON {kind}"
    return parse


def _add_field(parser: argparse.ArgumentParser, name: str, schema: dict[str, Any], required: bool) -> None:
    flags = [f"--{kebab(name)}"]
    if name != kebab(name):
        flags.append(f"--{name}")
    kind = schema.get("type")
    help_text = str(schema.get("description", "")).replace("%", "%%")
    options: dict[str, Any] = {"dest": f"field:{name}", "required": required, "default": None}
    if kind == "boolean":
        options["action"] = argparse.BooleanOptionalAction
    elif kind == "integer":
        options.update(type=int, metavar="INT")
    elif kind == "number":
        options.update(type=float, metavar="NUMBER")
    elif kind == "string" and isinstance(schema.get("enum"), list):
        options.update(choices=[str(value) for value in schema["enum"]])
    elif kind == "string":
        options["metavar"] = "TEXT"
    else:
        json_kind = kind if kind in ("object", "array") else "value"
        options.update(type=_json_value(json_kind), metavar="JSON")
        help_text = f"{help_text} (JSON {json_kind})".strip()
    if "default" in schema:
        help_text = f"{help_text} Default: {json.dumps(schema['default'])}.".strip()
    parser.add_argument(*flags, help=help_text or None, **options)


def endpoint_command(name: str) -> str:
    return kebab(name)


def service_command(slug: str) -> str:
    """Return the command of a service: its slug, or the slug and a suffix where a command has the same name."""
    return slug + COLLIDING_SERVICE_SUFFIX if slug in STATIC_COMMANDS else slug


def _service_slug(command: str) -> str:
    slug = command.lower()
    base = slug.removesuffix(COLLIDING_SERVICE_SUFFIX)
    return base if base != slug and base in STATIC_COMMANDS else slug


def _add_service(subparsers: Any, service: dict[str, Any]) -> None:
    description = "\n\n".join(filter(None, [service.get("tagline"), service.get("description")]))
    parser = subparsers.add_parser(
        service_command(service["slug"]), help=service.get("tagline") or service.get("name"), description=description,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    endpoints = parser.add_subparsers(title="endpoints", dest="endpoint", metavar="ENDPOINT", parser_class=Parser)
    endpoints.required = True
    for endpoint in service.get("endpoints", []):
        command = endpoint_command(endpoint["name"])
        aliases = [alias for alias in {endpoint["name"].lower()} if alias != command]
        price = endpoint.get("price_units", 0)
        summary = str(endpoint.get("description", "")).split("\n")[0]
        details = f"{endpoint.get('description', '')}\n\nPrice per successful call: {price} units (1 unit = US$0.000001)."
        sub = endpoints.add_parser(
            command, aliases=aliases, help=summary, description=details, epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        schema = endpoint.get("request_schema") or {}
        required = set(schema.get("required") or [])
        for field_name in sorted(schema.get("properties") or {}):
            field_schema = schema["properties"][field_name]
            _add_field(sub, field_name, field_schema if isinstance(field_schema, dict) else {}, field_name in required)
        sub.set_defaults(handler=_run_endpoint, service=service["slug"], endpoint_name=endpoint["name"],
                         streaming=bool(endpoint.get("streaming")))


# Output ------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[_cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [max([len(column), *(len(line[index]) for line in cells)]) for index, column in enumerate(columns)]
    lines = ["  ".join(column.upper().ljust(width) for column, width in zip(columns, widths, strict=True)).rstrip()]
    lines.extend("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in cells)
    return "\n".join(lines)


def render_table(value: Any) -> str:
    """Render a list of objects as rows, an object with one such list as that list, other objects as fields."""
    if isinstance(value, dict):
        lists = [item for item in value.values() if isinstance(item, list)]
        if len(value) == 1 and len(lists) == 1:
            return render_table(lists[0])
        return _table([{"field": key, "value": item} for key, item in value.items()], ["field", "value"])
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        columns: list[str] = []
        for item in value:
            columns.extend(key for key in item if key not in columns)
        return _table(value, columns)
    if isinstance(value, list):
        return "\n".join(_cell(item) for item in value)
    return _cell(value)


def _print(value: Any, output: str, out: TextIO) -> None:
    if output == "table":
        out.write(render_table(value) + "\n")
    else:
        out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _print_error(error: APIError, output: str) -> None:
    if output == "json":
        sys.stderr.write(json.dumps(error.envelope(), indent=2) + "\n")
        return
    sys.stderr.write(f"error: {error.detail} ({error.id}, HTTP {error.code})\n")
    for field, problem in sorted(error.fields.items()):
        sys.stderr.write(f"  {field}: {problem}\n")


# Commands ----------------------------------------------------------------------------------------


def _transport(args: argparse.Namespace) -> Transport:
    token = os.environ.get("M3O_API_TOKEN", "")
    if not token:
        raise UsageError("Set M3O_API_TOKEN to an API key (create one on the platform's API keys page).")
    return Transport(token, address=args.address, http=args.http)


def _call(args: argparse.Namespace, service: str, endpoint: str, body: dict[str, Any], streaming: bool) -> int:
    transport = _transport(args)
    if streaming:
        for message in transport.stream(service, endpoint, body):
            sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return EXIT_OK
    _print(transport.call(service, endpoint, body), args.output or "json", sys.stdout)
    return EXIT_OK


def _run_endpoint(args: argparse.Namespace) -> int:
    body = {key.removeprefix("field:"): value for key, value in vars(args).items()
            if key.startswith("field:") and value is not None}
    return _call(args, args.service, args.endpoint_name, body, args.streaming)


def _body_argument(text: str) -> dict[str, Any]:
    if text == "-":
        text = sys.stdin.read()
    try:
        body = json.loads(text)
    except ValueError as error:
        raise UsageError(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(body, dict):
        raise UsageError("The request body must be a JSON object, such as '{\"name\": \"Alice\"}'.")
    return body


def _run_call(args: argparse.Namespace) -> int:
    return _call(args, args.service, args.endpoint, _body_argument(args.body), streaming=False)


def _run_stream(args: argparse.Namespace) -> int:
    return _call(args, args.service, args.endpoint, _body_argument(args.body), streaming=True)


def _run_explore(args: argparse.Namespace) -> int:
    catalog = Catalog(args.address, args.http)
    services = catalog.services(args.term if args.explore == "search" else "")
    if args.explore == "search" and not services:
        sys.stderr.write(f"No service matches {args.term!r}.\n")
    if (args.output or "table") == "table":
        rows = [{"service": s["slug"], "category": (s.get("category") or {}).get("name", ""),
                 "endpoints": ", ".join(e["name"] for e in s.get("endpoints", [])), "tagline": s.get("tagline", "")}
                for s in services]
        if rows:
            sys.stdout.write(_table(rows, ["service", "category", "endpoints", "tagline"]) + "\n")
        return EXIT_OK
    _print(services, "json", sys.stdout)
    return EXIT_OK


# Parser ------------------------------------------------------------------------------------------


def build_parser(services: Sequence[dict[str, Any]] = (), catalog_note: str = "") -> Parser:
    description = "Call the APIs of an M3O platform from the terminal."
    if catalog_note:
        description += f"\n\n{catalog_note}"
    parser = Parser(prog="m3o", description=description, epilog=EPILOG,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", help="The platform's address (default: M3O_API_ADDRESS, else "
                        f"{DEFAULT_ADDRESS}).")
    parser.add_argument("-o", "--output", choices=["json", "table"],
                        help="Output format (default: json for calls, table for explore).")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    call = commands.add_parser("call", help="Call any endpoint with a JSON body.",
                               description="Call any endpoint with a JSON body ('-' reads it from standard input).",
                               epilog=EPILOG)
    call.add_argument("service")
    call.add_argument("endpoint")
    call.add_argument("body", nargs="?", default="{}", help="The request as a JSON object (default: {}).")
    call.set_defaults(handler=_run_call)

    stream = commands.add_parser(
        "stream", help="Read a stream endpoint's messages, one JSON line each.",
        description="Read a stream endpoint's messages, one JSON line each, until the stream ends or Ctrl+C.",
        epilog=EPILOG)
    stream.add_argument("service")
    stream.add_argument("endpoint")
    stream.add_argument("body", nargs="?", default="{}", help="The request as a JSON object (default: {}).")
    stream.set_defaults(handler=_run_stream)

    explore = commands.add_parser("explore", help="List and search the catalog's services.", epilog=EPILOG)
    explore_commands = explore.add_subparsers(dest="explore", metavar="ACTION", parser_class=Parser)
    explore_commands.required = True
    explore_commands.add_parser("list", help="List every service.").set_defaults(handler=_run_explore)
    search = explore_commands.add_parser("search", help="Find services by name, description or endpoint.")
    search.add_argument("term")
    search.set_defaults(handler=_run_explore)

    for service in services:
        _add_service(commands, service)
    return parser


def _first_command(argv: Sequence[str]) -> str | None:
    """Return the first positional argument, skipping the global options and their values."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in ("--address", "-o", "--output"):
            index += 2
            continue
        if token.startswith("-"):
            index += 1
            continue
        return token
    return None


def _global_address(argv: Sequence[str]) -> str:
    for index, token in enumerate(argv):
        if token == "--address" and index + 1 < len(argv):
            return argv[index + 1].rstrip("/")
        if token.startswith("--address="):
            return token.split("=", 1)[1].rstrip("/")
    return address_from_env(DEFAULT_ADDRESS)


def _services_for(argv: Sequence[str], catalog: Catalog) -> tuple[list[dict[str, Any]], str]:
    """Fetch what the command line needs from the catalog: one service, or all of them for --help."""
    command = _first_command(argv)
    if command in STATIC_COMMANDS:
        return [], ""
    if command is None:
        try:
            return catalog.services(), "Service commands come from the catalog; run m3o SERVICE --help for one."
        except (APIError, TransportError) as error:
            return [], f"The service commands are missing because the catalog could not be read: {error}"
    if not re.fullmatch(r"[-a-zA-Z0-9_]{1,64}", command):
        raise UsageError(f"{command!r} is not a command or a service name. Run m3o --help.")
    try:
        return [catalog.service(_service_slug(command))], ""
    except APIError as error:
        if error.code == 404:
            raise UsageError(f"No command or service named {command!r}. Run m3o explore list.") from None
        raise


def main(argv: Sequence[str] | None = None, *, http: httpx.Client | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
    try:
        try:
            services, note = _services_for(argv, Catalog(_global_address(argv), http))
            args = build_parser(services, note).parse_args(argv)
            args.address = (args.address or address_from_env(DEFAULT_ADDRESS)).rstrip("/")
            args.http = http
            return int(args.handler(args))
        except UsageError as error:
            sys.stderr.write(f"m3o: error: {error}\n")
            return EXIT_USAGE
        except APIError as error:
            output = "json" if "-o=json" in argv or "--output=json" in argv or _option(argv, "-o", "--output") == "json" else "text"
            _print_error(error, output)
            return EXIT_API
        except TransportError as error:
            sys.stderr.write(f"m3o: network error: {error}\n")
            return EXIT_NETWORK
        except KeyboardInterrupt:
            return 130
    finally:
        http.close()


def _option(argv: Sequence[str], *names: str) -> str | None:
    for index, token in enumerate(argv[:-1]):
        if token in names:
            return argv[index + 1]
    return None

