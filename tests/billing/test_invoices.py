"""Monthly invoices: month cuts in the account's zone, exactly-once issue, exact totals."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum

from accounts.models import Account
from billing.clock import month_end_run
from billing.models import BillingProfile, Invoice, InvoiceLine, LedgerEntry, UsageEvent
from billing.services import wallet_apply
from billing.services.invoices import invoice_issue, invoices_issue_due
from billing.tasks import invoices_issue
from tests.conftest import Persona

NOV = dt.date(2026, 11, 1)
DEC = dt.date(2026, 12, 1)
DEC_1_UTC = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
JAN_1_UTC = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
AFTER_NOV = DEC_1_UTC + dt.timedelta(hours=1)
AFTER_DEC = JAN_1_UTC + dt.timedelta(hours=1)
PRICE = 1_000


def insert_usage(account: Account, *, count: int, units: int, at: dt.datetime, service: str, endpoint: str, prefix: str) -> None:
    """Insert ``count`` charged calls and their ledger rows in two SQL statements (SQLite and PostgreSQL)."""
    stamp = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s) "
            "INSERT INTO billing_usageevent (request_id, account_id, service, endpoint, status_code, cost_units, "
            "latency_ms, source, created_at) "
            "SELECT %s || n, %s, %s, %s, 200, %s, 1, 'api', %s FROM seq",
            [count, prefix, account.pk, service, endpoint, units, stamp],
        )
        cursor.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s) "
            "INSERT INTO billing_ledgerentry (wallet_id, kind, amount_units, reference, description, created_at) "
            "SELECT %s, 'usage', %s, 'usage:' || %s || n, %s, %s FROM seq",
            [count, account.pk, -units, prefix, f"{service}/{endpoint}", stamp],
        )


def ledger_usage_units(account: Account, starts_at: dt.datetime, ends_at: dt.datetime) -> int:
    total = LedgerEntry.objects.filter(
        wallet_id=account.pk, kind=LedgerEntry.Kind.USAGE, created_at__gte=starts_at, created_at__lt=ends_at
    ).aggregate(total=Sum("amount_units"))["total"]
    return -(total or 0)


def test_calls_across_month_boundary_land_in_right_invoice(owner: Persona) -> None:
    wallet_apply(account_id=owner.account.pk, kind="grant", amount_units=10 * 1_000 * PRICE, reference="grant:test")
    LedgerEntry.objects.filter(reference="grant:test").update(created_at=dt.datetime(2026, 10, 15, tzinfo=dt.UTC))
    # 500 calls in the last half second of November, then 500 from exactly 00:00:00.000 on December 1.
    for index in range(1_000):
        with time_machine.travel(DEC_1_UTC + dt.timedelta(milliseconds=index - 500), tick=False):
            assert owner.call().status_code == 200
    on_midnight = UsageEvent.objects.get(created_at=DEC_1_UTC)

    month_end_run(now=AFTER_NOV)
    month_end_run(now=AFTER_DEC)

    november = Invoice.objects.get(account=owner.account, month=NOV)
    december = Invoice.objects.get(account=owner.account, month=DEC)
    assert november.lines.get(kind=InvoiceLine.Kind.USAGE).calls == 500
    assert december.lines.get(kind=InvoiceLine.Kind.USAGE).calls == 500
    assert november.usage_units == 500 * PRICE == ledger_usage_units(owner.account, november.starts_at, november.ends_at)
    assert december.usage_units == 500 * PRICE == ledger_usage_units(owner.account, december.starts_at, december.ends_at)
    assert november.ends_at == december.starts_at == DEC_1_UTC
    assert december.starts_at <= on_midnight.created_at < december.ends_at
    assert Invoice.objects.filter(account=owner.account).count() == 2


def test_invoicing_twice_issues_one_invoice(owner: Persona, outsider: Persona, django_capture_on_commit_callbacks) -> None:
    insert_usage(owner.account, count=5, units=7, at=DEC_1_UTC - dt.timedelta(days=3), service="helloworld", endpoint="Call", prefix="o")
    insert_usage(outsider.account, count=2, units=7, at=DEC_1_UTC - dt.timedelta(days=3), service="helloworld", endpoint="Call", prefix="x")

    with time_machine.travel(AFTER_NOV, tick=False), django_capture_on_commit_callbacks(execute=True):
        invoices_issue.delay()
        invoices_issue.delay()

    assert Invoice.objects.filter(month=NOV).count() == 2
    assert Invoice.objects.get(account=owner.account).lines.get().calls == 5
    assert len(mail.outbox) == 2
    assert {message.to[0] for message in mail.outbox} == {"owner@example.com", "outsider@example.com"}
    assert mail.outbox[0].attachments[0][2] == "application/pdf"


def test_month_not_over_is_not_invoiced(owner: Persona, settings) -> None:
    insert_usage(owner.account, count=1, units=7, at=DEC_1_UTC - dt.timedelta(days=1), service="a", endpoint="b", prefix="o")
    within_grace = DEC_1_UTC + dt.timedelta(seconds=settings.M3O_INVOICE_GRACE_SECONDS - 1)

    assert invoices_issue_due(now=within_grace) == []
    assert len(invoices_issue_due(now=AFTER_NOV)) == 1


def test_utc_plus_13_account_cut_at_local_midnight(owner: Persona, outsider: Persona) -> None:
    BillingProfile.objects.update_or_create(account=owner.account, defaults={"time_zone": "Etc/GMT-13"})
    local_midnight = dt.datetime(2026, 11, 30, 11, 0, tzinfo=dt.UTC)  # 2026-12-01 00:00 at UTC+13
    for persona in (owner, outsider):
        insert_usage(persona.account, count=1, units=5, at=local_midnight - dt.timedelta(seconds=1), service="s", endpoint="before", prefix=f"{persona.account.pk}b")
        insert_usage(persona.account, count=1, units=5, at=local_midnight, service="s", endpoint="after", prefix=f"{persona.account.pk}a")

    month_end_run(now=local_midnight + dt.timedelta(hours=1))

    invoice = Invoice.objects.get()
    assert invoice.account == owner.account
    assert invoice.month == NOV
    assert invoice.time_zone == "Etc/GMT-13"
    assert (invoice.starts_at, invoice.ends_at) == (dt.datetime(2026, 10, 31, 11, tzinfo=dt.UTC), local_midnight)
    assert [line.endpoint for line in invoice.lines.all()] == ["before"]

    month_end_run(now=AFTER_NOV)

    utc_invoice = Invoice.objects.get(account=outsider.account)
    assert sorted(line.endpoint for line in utc_invoice.lines.all()) == ["after", "before"]


def test_million_calls_total_is_ledger_in_cents(owner: Persona) -> None:
    during = DEC_1_UTC - dt.timedelta(days=10)
    insert_usage(owner.account, count=3, units=1, at=during, service="cache", endpoint="Get", prefix="small")
    insert_usage(owner.account, count=1_000_000, units=3, at=during, service="sms", endpoint="Send", prefix="big")

    invoice = invoice_issue(account_id=owner.account.pk, month=NOV)

    assert invoice is not None
    ledger_units = ledger_usage_units(owner.account, invoice.starts_at, invoice.ends_at)
    assert ledger_units == 3_000_003
    assert invoice.usage_units == ledger_units
    # 3,000,003 units are 300.0003 cents: rounded once, half up, to 300.
    assert invoice.total_cents == (ledger_units + 5_000) // 10_000 == 300
    lines = {(line.service, line.endpoint): (line.calls, line.amount_units) for line in invoice.lines.filter(kind="usage")}
    assert lines == {("cache", "Get"): (3, 3), ("sms", "Send"): (1_000_000, 3_000_000)}


def test_invoice_lists_topups_and_grants(owner: Persona) -> None:
    insert_usage(owner.account, count=1, units=10, at=DEC_1_UTC - dt.timedelta(days=2), service="s", endpoint="e", prefix="o")
    wallet_apply(account_id=owner.account.pk, kind="topup", amount_units=10_000_000, reference="topup:pi_1", description="Card payment")
    wallet_apply(account_id=owner.account.pk, kind="grant", amount_units=500_000, reference="grant:voucher", description="Voucher")
    LedgerEntry.objects.filter(reference__in=["topup:pi_1", "grant:voucher"]).update(created_at=DEC_1_UTC - dt.timedelta(days=1))

    invoice = invoice_issue(account_id=owner.account.pk, month=NOV)

    credits = sorted(invoice.lines.filter(kind=InvoiceLine.Kind.CREDIT).values_list("description", "amount_units"))
    assert credits == [("Grant: Voucher", 500_000), ("Topup: Card payment", 10_000_000)]
    assert invoice.usage_units == 10
    assert invoice.total_cents == 0


def test_empty_month_gets_no_invoice(owner: Persona) -> None:
    assert invoices_issue_due(now=AFTER_NOV) == []
    assert not Invoice.objects.exists()


def test_invoice_page_and_pdf_belong_to_account(owner: Persona, outsider: Persona) -> None:
    insert_usage(owner.account, count=3, units=1_234, at=DEC_1_UTC - dt.timedelta(days=2), service="helloworld", endpoint="Call", prefix="o")
    invoice = invoice_issue(account_id=owner.account.pk, month=NOV)

    page = owner.client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    pdf = owner.client.get(f"/billing/invoices/{invoice.pk}/pdf/")

    assert "helloworld/Call" in page
    assert "$0.003702" in page
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert invoice.number in pdf["Content-Disposition"]
    assert invoice.number in owner.client.get("/billing/").content.decode()
    assert outsider.client.get(f"/billing/invoices/{invoice.pk}/").status_code == 404
    assert outsider.client.get(f"/billing/invoices/{invoice.pk}/pdf/").status_code == 404


def test_time_zone_form_validates(owner: Persona) -> None:
    assert owner.client.post("/billing/time-zone/", {"time_zone": "Mars/Olympus"}).status_code == 302
    assert not BillingProfile.objects.filter(pk=owner.account.pk, time_zone="Mars/Olympus").exists()

    owner.client.post("/billing/time-zone/", {"time_zone": "Pacific/Auckland"})

    assert BillingProfile.objects.get(pk=owner.account.pk).time_zone == "Pacific/Auckland"


def test_time_zone_change_leaves_no_gap(owner: Persona) -> None:
    insert_usage(owner.account, count=1, units=1, at=DEC_1_UTC - dt.timedelta(days=2), service="s", endpoint="nov", prefix="n")
    november = invoice_issue(account_id=owner.account.pk, month=NOV)
    BillingProfile.objects.update_or_create(account=owner.account, defaults={"time_zone": "America/New_York"})
    # 02:00 UTC on December 1 is still November 30 in New York, after the November invoice's end.
    insert_usage(owner.account, count=1, units=1, at=DEC_1_UTC + dt.timedelta(hours=2), service="s", endpoint="gap", prefix="g")

    december = invoice_issue(account_id=owner.account.pk, month=DEC)

    assert december.starts_at == november.ends_at
    assert [line.endpoint for line in december.lines.filter(kind=InvoiceLine.Kind.USAGE)] == ["gap"]


def test_billing_clock_command_runs_month_end(owner: Persona, capsys) -> None:
    insert_usage(owner.account, count=2, units=1, at=DEC_1_UTC - dt.timedelta(days=2), service="s", endpoint="e", prefix="o")

    call_command("billing_clock", "--at", "2026-12-01T01:00:00Z")
    call_command("billing_clock", "--at", "2026-12-01T01:00:00Z")

    assert Invoice.objects.filter(account=owner.account, month=NOV).count() == 1
    assert "1 invoice(s) issued or found" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no time zone"):
        call_command("billing_clock", "--at", "2026-12-01T01:00:00")
    with pytest.raises(CommandError, match="Invalid --at"):
        call_command("billing_clock", "--at", "yesterday")


def test_beat_runs_the_billing_tasks(settings) -> None:
    from m3o_web.celery import app as celery_app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    for task in ("billing.tasks.invoices_issue", "billing.tasks.wallets_reconcile", "billing.tasks.balance_thresholds_check"):
        assert task in tasks
        assert task in celery_app.tasks
