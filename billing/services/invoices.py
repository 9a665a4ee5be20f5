"""Monthly invoices: one per account per month, cut at midnight on the 1st in the account's zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import structlog
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Account
from billing.models import UNITS_PER_CENT, BillingProfile, Invoice, InvoiceLine, LedgerEntry, UsageEvent
from billing.selectors import billing_contact_emails

logger = structlog.get_logger(__name__)

CREDIT_KINDS = (LedgerEntry.Kind.TOPUP, LedgerEntry.Kind.GRANT, LedgerEntry.Kind.REFUND, LedgerEntry.Kind.ADJUSTMENT)


def round_units_to_cents(units: int) -> int:
    """Round a non-negative amount of units half up to whole cents, in integers."""
    return (units + UNITS_PER_CENT // 2) // UNITS_PER_CENT


def month_start(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.date:
    """Return the first day of the month that contains ``moment`` in ``zone``."""
    return moment.astimezone(zone).date().replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def local_midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)


def account_time_zone(account_id: int) -> str:
    name = BillingProfile.objects.filter(pk=account_id).values_list("time_zone", flat=True).first()
    return name or "UTC"


def invoice_period(*, account_id: int, month: dt.date, zone_name: str) -> tuple[dt.datetime, dt.datetime]:
    """Return the [start, end) of an account's month in UTC.

    The period starts where the previous invoice ended, so that a change of
    time zone between two months leaves no gap and no overlap.
    """
    zone = zoneinfo.ZoneInfo(zone_name)
    starts_at = local_midnight(month, zone)
    ends_at = local_midnight(next_month(month), zone)
    previous_end = (
        Invoice.objects.filter(account_id=account_id, month__lt=month).order_by("-month").values_list("ends_at", flat=True).first()
    )
    if previous_end is not None:
        starts_at = previous_end
    return starts_at, ends_at


def _usage_line(row: dict[str, Any]) -> InvoiceLine:
    return InvoiceLine(
        kind=InvoiceLine.Kind.USAGE,
        service=row["service"],
        endpoint=row["endpoint"],
        description=f"{row['service']}/{row['endpoint']}",
        calls=row["calls"],
        amount_units=row["units"],
    )


def _credit_line(entry: LedgerEntry) -> InvoiceLine:
    return InvoiceLine(
        kind=InvoiceLine.Kind.CREDIT,
        description=f"{entry.get_kind_display()}: {entry.description}" if entry.description else entry.get_kind_display(),
        amount_units=entry.amount_units,
        occurred_at=entry.created_at,
    )


def _usage_lines(account_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> list[InvoiceLine]:
    return [line for _, line in _usage_lines_for([account_id], starts_at, ends_at)]


def _credit_lines(account_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> list[InvoiceLine]:
    return [line for _, line in _credit_lines_for([account_id], starts_at, ends_at)]


def invoice_number(*, account_id: int, month: dt.date) -> str:
    return f"M3O-{month:%Y%m}-{account_id:06d}"


def invoice_issue(*, account_id: int, month: dt.date) -> Invoice | None:
    """Issue the account's invoice for ``month`` (its first day); return it, or None for an empty month.

    Safe to run twice or from two workers at once: the unique (account, month)
    constraint lets one insert win, and the others return the winner's invoice.
    The email is queued after the commit.
    """
    existing = Invoice.objects.filter(account_id=account_id, month=month).first()
    if existing:
        return existing

    zone_name = account_time_zone(account_id)
    starts_at, ends_at = invoice_period(account_id=account_id, month=month, zone_name=zone_name)
    usage = _usage_lines(account_id, starts_at, ends_at)
    credits = _credit_lines(account_id, starts_at, ends_at)
    if not usage and not credits:
        return None

    usage_units = sum(line.amount_units for line in usage)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                account_id=account_id,
                month=month,
                number=invoice_number(account_id=account_id, month=month),
                time_zone=zone_name,
                starts_at=starts_at,
                ends_at=ends_at,
                usage_units=usage_units,
                total_cents=round_units_to_cents(usage_units),
            )
            for line in (*usage, *credits):
                line.invoice = invoice
            InvoiceLine.objects.bulk_create([*usage, *credits])
            transaction.on_commit(lambda: _queue_emails([invoice.pk]))
    except IntegrityError:
        # Another worker issued this invoice first.
        return Invoice.objects.get(account_id=account_id, month=month)
    logger.info("Invoice issued", invoice_id=invoice.pk, account_id=account_id, month=str(month), total_cents=invoice.total_cents)
    return invoice


def invoices_issue_due(*, now: dt.datetime) -> list[int]:
    """Issue every invoice whose month ended, in its account's zone, at least M3O_INVOICE_GRACE_SECONDS before ``now``.

    The grace period lets calls that were in flight at midnight settle first.
    Only the latest finished month is issued; a month that had no charged
    calls and no credits gets no invoice. Accounts are invoiced in batches of
    ISSUE_BATCH_SIZE with a fixed number of queries each, not one account at
    a time. Returns the ids of the invoices issued or found.
    """
    grace = dt.timedelta(seconds=settings.M3O_INVOICE_GRACE_SECONDS)
    zones = dict(BillingProfile.objects.values_list("account_id", "time_zone"))
    months: dict[str, dt.date] = {}
    due: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
    for account_id in Account.objects.order_by("id").values_list("id", flat=True).iterator(chunk_size=10_000):
        zone_name = zones.get(account_id) or "UTC"
        if zone_name not in months:
            months[zone_name] = previous_month(month_start(now - grace, zoneinfo.ZoneInfo(zone_name)))
        due[(zone_name, months[zone_name])].append(account_id)

    issued: list[int] = []
    for (zone_name, month), account_ids in due.items():
        for start in range(0, len(account_ids), ISSUE_BATCH_SIZE):
            batch = account_ids[start : start + ISSUE_BATCH_SIZE]
            issued.extend(invoices_issue_batch(account_ids=batch, month=month, zone_name=zone_name))
    return issued


# Accounts invoiced per transaction by invoices_issue_due: each batch costs a fixed number of queries.
ISSUE_BATCH_SIZE = 500


def invoices_issue_batch(*, account_ids: list[int], month: dt.date, zone_name: str) -> list[int]:
    """Issue ``month``'s invoices of accounts that share the zone ``zone_name``, in one transaction.

    Returns the ids of the invoices issued or found. Safe to run twice or from
    two workers at once. Accounts already invoiced are skipped. If another
    worker inserts one of the batch's invoices meanwhile, the unique (account,
    month) constraint rolls the batch back. Its accounts are then issued one
    at a time by invoice_issue, which returns the other worker's invoice.
    """
    found = dict(Invoice.objects.filter(account_id__in=account_ids, month=month).values_list("account_id", "id"))
    todo = [account_id for account_id in account_ids if account_id not in found]
    if not todo:
        return list(found.values())

    zone = zoneinfo.ZoneInfo(zone_name)
    ends_at = local_midnight(next_month(month), zone)
    # Each period starts where the account's previous invoice ended (see invoice_period).
    previous_ends = dict(
        Invoice.objects.filter(account_id__in=todo, month__lt=month)
        .values("account_id")
        .annotate(last_end=Max("ends_at"))
        .values_list("account_id", "last_end")
    )
    by_start: dict[dt.datetime, list[int]] = defaultdict(list)
    for account_id in todo:
        by_start[previous_ends.get(account_id) or local_midnight(month, zone)].append(account_id)

    usage_units: dict[int, int] = {}
    credits: dict[int, list[InvoiceLine]] = defaultdict(list)
    starts: dict[int, dt.datetime] = {}
    for starts_at, ids in by_start.items():
        starts.update(dict.fromkeys(ids, starts_at))
        usage_units.update(
            UsageEvent.objects.filter(_charged_in(ids, starts_at, ends_at))
            .values("account_id")
            .annotate(units=Sum("cost_units"))
            .values_list("account_id", "units")
        )
        for account_id, line in _credit_lines_for(ids, starts_at, ends_at):
            credits[account_id].append(line)

    invoices = [
        Invoice(
            account_id=account_id,
            month=month,
            number=invoice_number(account_id=account_id, month=month),
            time_zone=zone_name,
            starts_at=starts[account_id],
            ends_at=ends_at,
            usage_units=usage_units.get(account_id, 0),
            total_cents=round_units_to_cents(usage_units.get(account_id, 0)),
        )
        for account_id in todo
        if account_id in usage_units or credits[account_id]
    ]
    if not invoices:
        return list(found.values())

    try:
        with transaction.atomic():
            Invoice.objects.bulk_create(invoices)
            # Usage lines go from the events to the table in SQL: 20 lines for each of 10,000
            # accounts would otherwise be built and sent row by row through Python.
            for starts_at, ids in by_start.items():
                _usage_lines_insert(account_ids=ids, month=month, starts_at=starts_at, ends_at=ends_at)
            lines = []
            for invoice in invoices:
                for line in credits[invoice.account_id]:
                    line.invoice = invoice
                    lines.append(line)
            InvoiceLine.objects.bulk_create(lines, batch_size=2_000)
            new_ids = [invoice.pk for invoice in invoices]
            transaction.on_commit(lambda: _queue_emails(new_ids))
    except IntegrityError:
        logger.info("Invoice batch raced another worker; issuing one by one", month=str(month), accounts=len(todo))
        one_by_one = (invoice_issue(account_id=account_id, month=month) for account_id in todo)
        return [*found.values(), *(invoice.pk for invoice in one_by_one if invoice is not None)]
    logger.info("Invoices issued", month=str(month), time_zone=zone_name, invoices=len(invoices))
    return [*found.values(), *new_ids]


def _charged_in(account_ids: list[int], starts_at: dt.datetime, ends_at: dt.datetime) -> Q:
    return Q(account_id__in=account_ids, created_at__gte=starts_at, created_at__lt=ends_at, cost_units__gt=0)


def _usage_lines_insert(*, account_ids: list[int], month: dt.date, starts_at: dt.datetime, ends_at: dt.datetime) -> int:
    """Insert the usage lines of the accounts' invoices for ``month``: one per service and endpoint, in one statement.

    The same lines as _usage_lines builds, ordered the same way. Returns the number of lines.
    """
    charged = (
        UsageEvent.objects.filter(_charged_in(account_ids, starts_at, ends_at))
        .values("account_id", "service", "endpoint")
        .annotate(calls=Count("id"), units=Sum("cost_units"))
        .order_by("account_id", "service", "endpoint")
    )
    select_sql, select_params = charged.query.sql_with_params()
    line, invoice = InvoiceLine._meta.db_table, Invoice._meta.db_table
    sql = (
        f"INSERT INTO {line} (invoice_id, kind, service, endpoint, description, calls, amount_units, occurred_at) "
        f"SELECT i.id, %s, c.service, c.endpoint, c.service || '/' || c.endpoint, c.calls, c.units, NULL "
        f"FROM ({select_sql}) AS c JOIN {invoice} AS i ON i.account_id = c.account_id AND i.month = %s "
        f"ORDER BY c.account_id, c.service, c.endpoint"
    )
    params = (InvoiceLine.Kind.USAGE.value, *select_params, connection.ops.adapt_datefield_value(month))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _usage_lines_for(account_ids: list[int], starts_at: dt.datetime, ends_at: dt.datetime) -> Iterator[tuple[int, InvoiceLine]]:
    charged = (
        UsageEvent.objects.filter(account_id__in=account_ids, created_at__gte=starts_at, created_at__lt=ends_at, cost_units__gt=0)
        .values("account_id", "service", "endpoint")
        .annotate(calls=Count("id"), units=Sum("cost_units"))
        .order_by("account_id", "service", "endpoint")
    )
    for row in charged.iterator(chunk_size=10_000):
        yield row["account_id"], _usage_line(row)


def _credit_lines_for(account_ids: list[int], starts_at: dt.datetime, ends_at: dt.datetime) -> Iterator[tuple[int, InvoiceLine]]:
    entries = LedgerEntry.objects.filter(
        wallet_id__in=account_ids, kind__in=CREDIT_KINDS, created_at__gte=starts_at, created_at__lt=ends_at
    ).order_by("wallet_id", "created_at", "id")
    for entry in entries.iterator(chunk_size=10_000):
        yield entry.wallet_id, _credit_line(entry)


# Invoices emailed per task: few enough that several workers share a month's emails, enough that
# queueing them costs one broker message per batch rather than one per invoice.
EMAIL_BATCH_SIZE = 100


def _queue_emails(invoice_ids: list[int]) -> None:
    from billing.tasks import invoice_send, invoices_send

    if len(invoice_ids) == 1:
        invoice_send.delay(invoice_ids[0])
        return
    for start in range(0, len(invoice_ids), EMAIL_BATCH_SIZE):
        invoices_send.delay(invoice_ids[start : start + EMAIL_BATCH_SIZE])


def invoice_email(*, invoice_id: int) -> bool:
    """Email an issued invoice, with its PDF, to the account's owners and billing members, once.

    The row is claimed with a conditional UPDATE before sending, so two runs
    of the task send one email. A failed send releases the claim and raises,
    so the task can retry.
    """
    from billing.invoice_pdf import invoice_pdf_render

    if not Invoice.objects.filter(pk=invoice_id, emailed_at__isnull=True).update(emailed_at=timezone.now()):
        return False
    invoice = Invoice.objects.select_related("account").get(pk=invoice_id)
    recipients = billing_contact_emails(invoice.account_id)
    if not recipients:
        logger.warning("Invoice has no recipients", invoice_id=invoice_id, account_id=invoice.account_id)
        return False
    context = {"invoice": invoice, "site_url": settings.SITE_URL}
    message = EmailMessage(
        subject=f"[M3O] Invoice {invoice.number} for {invoice.month:%B %Y}",
        body=render_to_string("billing/email/invoice_issued.txt", context),
        to=recipients,
    )
    message.attach(f"{invoice.number}.pdf", invoice_pdf_render(invoice), "application/pdf")
    try:
        message.send()
    except Exception:
        Invoice.objects.filter(pk=invoice_id).update(emailed_at=None)
        logger.exception("Invoice email failed", invoice_id=invoice_id, account_id=invoice.account_id)
        raise
    logger.info("Invoice emailed", invoice_id=invoice_id, account_id=invoice.account_id)
    return True


def billing_profile_set_time_zone(*, account: Account, time_zone: str) -> BillingProfile:
    """Set the zone that cuts the account's invoice months; it applies from the next invoice on."""
    if time_zone not in zoneinfo.available_timezones():
        raise ValueError(f"Unknown time zone {time_zone!r}.")
    profile, _ = BillingProfile.objects.update_or_create(account_id=account.pk, defaults={"time_zone": time_zone})
    logger.info("Invoice time zone changed", account_id=account.pk, time_zone=time_zone)
    return profile

