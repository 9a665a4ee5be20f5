"""Invoicing from two workers at once, on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections, transaction

from billing.models import Invoice, InvoiceLine
from billing.services.invoices import invoice_issue, invoices_issue_batch, invoices_issue_due
from tests.billing.test_invoices import AFTER_NOV, DEC_1_UTC, NOV, insert_usage
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


def test_racing_batch_falls_back_to_single_issue() -> None:
    accounts = [personal_account(UserFactory()) for _ in range(3)]
    for account in accounts:
        insert_usage(account, count=2, units=5, at=DEC_1_UTC - dt.timedelta(days=2), service="s", endpoint="e", prefix=f"{account.pk}-")
    racer_inserted = threading.Event()
    batch_done = threading.Event()
    result: list[int] = []

    def other_worker() -> None:
        # Issues the middle account's invoice and keeps its transaction open while the batch inserts.
        try:
            with transaction.atomic():
                invoice_issue(account_id=accounts[1].pk, month=NOV)
                racer_inserted.set()
                batch_done.wait(timeout=2)  # the batch is now blocked on the unique index
        finally:
            connections.close_all()

    def batch_worker() -> None:
        try:
            racer_inserted.wait(timeout=30)
            result.extend(invoices_issue_batch(account_ids=[a.pk for a in accounts], month=NOV, zone_name="UTC"))
        finally:
            batch_done.set()
            connections.close_all()

    threads = [threading.Thread(target=other_worker), threading.Thread(target=batch_worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(result) == sorted(Invoice.objects.filter(month=NOV).values_list("id", flat=True))
    assert Invoice.objects.filter(month=NOV).count() == 3
    assert InvoiceLine.objects.count() == 3
