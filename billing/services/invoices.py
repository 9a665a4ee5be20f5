"""Monthly invoices: one per account per month, cut at midnight on the 1st in the account's zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import structlog
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
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


def _usage_lines(account_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> list[InvoiceLine]:
    charged = (
        UsageEvent.objects.filter(account_id=account_id, created_at__gte=starts_at, created_at__lt=ends_at, cost_units__gt=0)
        .values("service", "endpoint")
        .annotate(calls=Count("id"), units=Sum("cost_units"))
        .order_by("service", "endpoint")
    )
    return [
        InvoiceLine(
            kind=InvoiceLine.Kind.USAGE,
            service=row["service"],
            endpoint=row["endpoint"],
            description=f"{row['service']}/{row['endpoint']}",
            calls=row["calls"],
            amount_units=row["units"],
        )
        for row in charged
    ]


def _credit_lines(account_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> list[InvoiceLine]:
    entries = LedgerEntry.objects.filter(
        wallet_id=account_id, kind__in=CREDIT_KINDS, created_at__gte=starts_at, created_at__lt=ends_at
    ).order_by("created_at", "id")
    return [
        InvoiceLine(
            kind=InvoiceLine.Kind.CREDIT,
            description=f"{entry.get_kind_display()}: {entry.description}" if entry.description else entry.get_kind_display(),
            amount_units=entry.amount_units,
            occurred_at=entry.created_at,
        )
        for entry in entries
    ]


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
                number=f"M3O-{month:%Y%m}-{account_id:06d}",
                time_zone=zone_name,
                starts_at=starts_at,
                ends_at=ends_at,
                usage_units=usage_units,
                total_cents=round_units_to_cents(usage_units),
            )
            for line in (*usage, *credits):
                line.invoice = invoice
            InvoiceLine.objects.bulk_create([*usage, *credits])
            transaction.on_commit(lambda: _queue_email(invoice.pk))
    except IntegrityError:
        # Another worker issued this invoice first.
        return Invoice.objects.get(account_id=account_id, month=month)
    logger.info("Invoice issued", invoice_id=invoice.pk, account_id=account_id, month=str(month), total_cents=invoice.total_cents)
    return invoice


def _queue_email(invoice_id: int) -> None:
    from billing.tasks import invoice_send

    invoice_send.delay(invoice_id)


def invoices_issue_due(*, now: dt.datetime) -> list[int]:
    """Issue every invoice whose month ended, in its account's zone, at least M3O_INVOICE_GRACE_SECONDS before ``now``.

    The grace period lets calls that were in flight at midnight settle first.
    Only the latest finished month is issued; a month that had no charged
    calls and no credits gets no invoice. Returns the ids of the invoices
    issued or found.
    """
    grace = dt.timedelta(seconds=settings.M3O_INVOICE_GRACE_SECONDS)
    zones = dict(BillingProfile.objects.values_list("account_id", "time_zone"))
    issued = []
    for account_id in Account.objects.values_list("id", flat=True).iterator():
        zone = zoneinfo.ZoneInfo(zones.get(account_id) or "UTC")
        month = previous_month(month_start(now - grace, zone))
        invoice = invoice_issue(account_id=account_id, month=month)
        if invoice is not None:
            issued.append(invoice.pk)
    return issued


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

