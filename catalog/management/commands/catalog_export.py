"""Write the catalog (categories, services, endpoints, prices) as JSON, without upstream credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from catalog.transfer import catalog_export


class Command(BaseCommand):
    help = "Export the catalog as JSON to a file or standard output, for catalog_import in another environment."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", "-o", help="File to write; standard output when omitted.")

    def handle(self, *args: Any, output: str | None = None, **options: Any) -> None:
        text = json.dumps(catalog_export(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Could not write {output}: {exc.strerror}. Check the path and its permissions.") from exc
        self.stderr.write(f"Catalog written to {output}.")
