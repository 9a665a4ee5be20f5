"""Run the month-end billing tasks as of a given time: ``manage.py billing_clock --at 2026-12-01T01:00:00Z``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing.clock import month_end_run


class Command(BaseCommand):
    help = "Roll up usage, issue due invoices and reconcile wallets as if the time were --at (default: now)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--at", help="ISO 8601 time with a zone, e.g. 2026-12-01T01:00:00Z. Default: now.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["at"]:
            try:
                now = dt.datetime.fromisoformat(options["at"])
            except ValueError:
                raise CommandError(f"Invalid --at {options['at']!r}: use ISO 8601, e.g. 2026-12-01T01:00:00Z.") from None
            if now.tzinfo is None:
                raise CommandError(f"--at {options['at']!r} has no time zone: add Z or an offset such as +13:00.")
        result = month_end_run(now=now)
        self.stdout.write(
            f"As of {now.isoformat()}: {len(result.invoice_ids)} invoice(s) issued or found, "
            f"{result.rollup_batches} usage roll-up batch(es) run, {result.mismatched_wallets} wallet(s) not reconciled."
        )
