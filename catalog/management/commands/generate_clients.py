"""Generate the JavaScript, Go and Python clients in clients/ from the platform's OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.clientgen import MARKER, generate
from catalog.clientgen.golang import DEFAULT_MODULE
from catalog.models import Service
from catalog.openapi import platform_document
from catalog.selectors import services_listed

# The committed clients call the embedded default unless --address sets another.
DEFAULT_ADDRESS = "http://127.0.0.1:8000"
# Folders that hold generated files, so that files of removed services are found.
GENERATED_TREES = ("python/src/m3o", "js/src", "go")


def generated_on_disk(root: Path) -> set[str]:
    found = set()
    for tree in GENERATED_TREES:
        for path in (root / tree).rglob("*"):
            if path.is_file() and path.suffix in {".py", ".js", ".ts", ".go"}:
                with path.open("rb") as handle:
                    if MARKER.encode() in handle.readline():
                        found.add(path.relative_to(root).as_posix())
    return found


def differences(root: Path, files: dict[str, str]) -> list[str]:
    """Paths under root that differ from ``files``: changed, missing or left over."""
    changed = [
        path for path, text in files.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]
    return sorted(changed + sorted(generated_on_disk(root) - files.keys()))


class Command(BaseCommand):
    help = (
        "Generate clients/js, clients/go and clients/python from the OpenAPI document of the built-in "
        "services in the catalog (or of a saved document). Run migrate first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "clients"),
                            help="The clients folder to write into (default: clients/ in the repository).")
        parser.add_argument("--check", action="store_true",
                            help="Write nothing; exit with an error when the clients differ from what would be generated.")
        parser.add_argument("--all", action="store_true",
                            help="Include every listed service, upstream ones too, not only the built-in ones.")
        parser.add_argument("--openapi", metavar="FILE",
                            help="Generate from a saved OpenAPI document, such as /explore/openapi.json of a platform.")
        parser.add_argument("--address", default=DEFAULT_ADDRESS,
                            help=f"The default address the clients call (default: {DEFAULT_ADDRESS}).")
        parser.add_argument("--go-module", default=DEFAULT_MODULE,
                            help=f"The Go module path (default: {DEFAULT_MODULE}).")

    def handle(self, *args: Any, **options: Any) -> None:
        document = self._document(options)
        if not document.get("paths"):
            raise CommandError("The OpenAPI document has no endpoints; run migrate so the built-in services are in the catalog.")
        files = generate(document, go_module=options["go_module"])
        root = Path(options["output"])
        stale = differences(root, files)

        if options["check"]:
            if stale:
                raise CommandError(
                    "The generated clients are out of date; run python manage.py generate_clients. Differences: "
                    + ", ".join(stale)
                )
            self.stdout.write(f"The clients are up to date ({len(files)} files).")
            return

        for path in stale:
            target = root / path
            if path in files:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(files[path], encoding="utf-8")
            else:
                target.unlink()
        self.stdout.write(f"Wrote {len(files)} files to {root} ({len(stale)} changed).")

    def _document(self, options: dict[str, Any]) -> dict[str, Any]:
        if options["openapi"]:
            try:
                document = json.loads(Path(options["openapi"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read the OpenAPI document {options['openapi']}: {error}") from error
            if not isinstance(document, dict):
                raise CommandError(f"{options['openapi']} is not an OpenAPI document (expected a JSON object).")
            document["servers"] = [{"url": options["address"]}]
            return document
        services = services_listed().order_by("slug")
        if not options["all"]:
            services = services.filter(backend=Service.Backend.BUILTIN)
        return platform_document(services, server_url=options["address"])
