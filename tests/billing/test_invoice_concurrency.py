"""Invoicing from two workers at once, on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections

from billing.models import Invoice, InvoiceLine
from billing.services.invoices import invoices_issue_due
from tests.billing.test_invoices import AFTER_NOV, DEC_1_UTC, insert_usage
from tests.factories import UserFactory, personal_account

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_workers_issue_one_invoice_each() -> None:
    accounts = [personal_account(UserFactory()) for _ in range(5)]
    for account in accounts:
        insert_usage(account, count=3, units=2, at=DEC_1_UTC - dt.timedelta(days=1), service="s", endpoint="e", prefix=f"{account.pk}-")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            invoices_issue_due(now=AFTER_NOV)
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Invoice.objects.count() == 5
    assert InvoiceLine.objects.count() == 5
    for account in accounts:
        assert Invoice.objects.get(account=account).usage_units == 6
