"""Apply a catalog_export file to this environment's catalog, in one transaction."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from catalog.transfer import CatalogImportError, ImportReport, catalog_import


class Command(BaseCommand):
    help = (
        "Import a catalog exported with catalog_export. Upstream services are created or updated; built-in "
        "services take only the status, operator-set fields and prices. Nothing changes if the file has a problem."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="The exported JSON file, or - for standard input.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change and change nothing.")

    def handle(self, *args: Any, file: str, dry_run: bool = False, **options: Any) -> None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Could not read {file}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text; give the JSON file catalog_export wrote.") from exc
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file} is not valid JSON: {exc.msg} at line {exc.lineno}.") from exc
        try:
            report = catalog_import(document, dry_run=dry_run)
        except CatalogImportError as exc:
            lines = "\n".join(f"- {problem}" for problem in exc.problems)
            raise CommandError(f"The catalog was not imported, because the file has problems:\n{lines}") from exc
        self._print(report, dry_run=dry_run)

    def _print(self, report: ImportReport, *, dry_run: bool) -> None:
        heading = "Dry run, nothing changed. The import would make these changes:" if dry_run else "Catalog imported."
        self.stdout.write(heading)
        sections = [
            ("Created", report.created),
            ("Updated", report.updated),
            ("Removed", report.removed),
            ("Prices", report.prices),
            ("Warnings", report.warnings),
        ]
        for title, items in sections:
            for item in items:
                self.stdout.write(f"  {title}: {item}")
        if not any(items for _, items in sections):
            self.stdout.write("  No changes: the catalog already matches the file.")
