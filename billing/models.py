"""Wallets, the ledger, holds for calls in flight, and usage.

All money is in integer units: 1 unit = US$0.000001.

Invariant, checked by ``wallet_reconcile``: for every wallet,
``balance_units - debt_units + sum(open holds) == sum(ledger amounts)``. The
balance is what the account can still spend. A hold is the price of a call in
flight, taken from the balance when the call starts and either charged (a
ledger row) or given back when it ends. Debt is what a refund took beyond the
balance, and the next credit pays it off first.
"""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accounts.models import Account, ApiKey, User

# Stripe amounts are in cents; 1 cent = 10,000 units.
UNITS_PER_CENT = 10_000


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}: use an IANA name such as UTC or Europe/Berlin.")


class Wallet(models.Model):
    # Keyed by the account, so the hot path can address a wallet by account id.
    account = models.OneToOneField(Account, on_delete=models.PROTECT, primary_key=True, related_name="wallet")
    balance_units = models.BigIntegerField(default=0)
    # While above zero, the meter rejects every call with 402 (see DatabaseMeter.reserve).
    debt_units = models.BigIntegerField(default=0)
    # Usage charged through the Redis meter's flusher since the wallet opened. A
    # flush lowers balance_units and raises this by the same amount, so
    # balance + metered - debt changes only with credits and debits outside
    # metering (see billing/metering.py).
    metered_units = models.BigIntegerField(default=0)
    # The most this account's calls may be charged in a calendar month (UTC); empty: no cap.
    spending_cap_units = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance_units__gte=0), name="billing_wallet_balance_non_negative"),
            models.CheckConstraint(condition=models.Q(debt_units__gte=0), name="billing_wallet_debt_non_negative"),
            models.CheckConstraint(
                condition=models.Q(spending_cap_units__gte=0), name="billing_wallet_spending_cap_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Wallet of {self.account}"


class LedgerEntry(models.Model):
    """One balance change. Append-only: never updated or deleted."""

    class Kind(models.TextChoices):
        GRANT = "grant"  # promotional credit, e.g. at signup
        TOPUP = "topup"  # money paid in
        USAGE = "usage"  # a charged call (negative)
        REFUND = "refund"  # a top-up paid back to the card (negative)
        ADJUSTMENT = "adjustment"  # an operator's correction, either sign
        SUBSCRIPTION = "subscription"  # a plan's price paid by card: a credit and a debit of the same amount

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount_units = models.BigIntegerField(help_text="Positive adds to the balance, negative takes from it.")
    # Unique per business event (e.g. "usage:<request id>", "grant:signup:<account id>"),
    # so a retried write cannot apply twice.
    reference = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_units} ({self.reference})"


class Hold(models.Model):
    """The price of a call in flight, already taken from the wallet's balance."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="holds")
    request_id = models.CharField(max_length=64, unique=True)
    amount_units = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_units__gt=0), name="billing_hold_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Hold {self.amount_units} for {self.request_id}"


class UsageEvent(models.Model):
    """One call through the gateway, charged or not."""

    class Source(models.TextChoices):
        API = "api"
        PLAYGROUND = "playground"

    request_id = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="usage_events")
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    service = models.CharField(max_length=64)
    endpoint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    cost_units = models.BigIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="billing_usage_account_time"),
            models.Index(fields=["created_at"], name="billing_usage_time"),
        ]

    def __str__(self) -> str:
        return f"{self.service}/{self.endpoint} {self.status_code} ({self.request_id})"


class StatusClass(models.IntegerChoices):
    """The first digit of a call's HTTP status."""

    SUCCESS = 2, "2xx"
    REDIRECT = 3, "3xx"
    CLIENT_ERROR = 4, "4xx"
    SERVER_ERROR = 5, "5xx"


class UsageTotal(models.Model):
    """Usage events rolled up per account, period, key, service, endpoint and status class.

    Written only by ``billing.services.usage.usage_rollup``, which adds each
    event exactly once (see UsageRollupCursor). ``key_id`` is the API key's id,
    or 0 for calls made without one (the playground); it is a plain integer so
    that it can be part of the unique key on SQLite and PostgreSQL alike.
    """

    # Derived data written in bulk: no foreign key check or separate index per row
    # (the unique constraint's index starts with the account).
    account = models.ForeignKey(Account, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False)
    key_id = models.BigIntegerField(default=0)
    service = models.CharField(max_length=64)
    endpoint = models.CharField(max_length=64)
    status_class = models.PositiveSmallIntegerField(choices=StatusClass.choices)
    calls = models.BigIntegerField(default=0)
    # Calls that were not 2xx: equal to calls when status_class is not 2, else 0.
    errors = models.BigIntegerField(default=0)
    cost_units = models.BigIntegerField(default=0)
    latency_ms_total = models.BigIntegerField(default=0, help_text="Sum of the calls' latencies, for the mean.")

    class Meta:
        abstract = True


class UsageHourly(UsageTotal):
    hour = models.DateTimeField(help_text="Start of the UTC hour.")

    class Meta:
        verbose_name_plural = "usage hourly totals"
        ordering = ["-hour", "service", "endpoint"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "hour", "key_id", "service", "endpoint", "status_class"],
                name="billing_usage_hourly_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.service}/{self.endpoint}: {self.calls}"


class UsageDaily(UsageTotal):
    day = models.DateField(help_text="The UTC day.")

    class Meta:
        verbose_name_plural = "usage daily totals"
        ordering = ["-day", "service", "endpoint"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "key_id", "service", "endpoint", "status_class"],
                name="billing_usage_daily_unique",
            ),
        ]
        indexes = [models.Index(fields=["day"], name="billing_usage_daily_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.service}/{self.endpoint}: {self.calls}"


class UsageRollupCursor(models.Model):
    """How far the roll-up has read the usage events: every event with ``id <= last_event_id`` is in the totals.

    One row. Each roll-up batch adds a range of event ids to the totals and
    moves this cursor in the same transaction, so a batch counts fully or
    not at all: a killed or repeated run neither double counts nor skips.
    """

    name = models.CharField(max_length=32, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} roll-up at event {self.last_event_id}"


class FreeUsage(models.Model):
    """Free calls an account used in one calendar month (UTC), per counter.

    ``scope`` is "allowance" for the account's monthly free allowance, or
    "endpoint:<id>" for an endpoint's monthly free quota.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    scope = models.CharField(max_length=40)
    used = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "free usage"
        constraints = [
            models.UniqueConstraint(fields=["account", "month", "scope"], name="billing_free_usage_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.month:%Y-%m}: {self.used}"

class BillingProfile(models.Model):
    """An account's link to Stripe and its payment settings."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, primary_key=True, related_name="billing_profile")
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # IANA zone name. Invoice months start at midnight on the 1st in this zone.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # Auto top-up: when the balance falls below the threshold, charge the card for the amount,
    # at most auto_topup_max_per_month times per calendar month (UTC).
    auto_topup_enabled = models.BooleanField(default=False)
    auto_topup_threshold_units = models.BigIntegerField(default=5_000_000)
    auto_topup_amount_cents = models.PositiveIntegerField(default=2_000)
    auto_topup_max_per_month = models.PositiveSmallIntegerField(default=3)
    auto_topup_card = models.ForeignKey(
        "SavedCard", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Empty: the oldest saved card."
    )
    # Set when a card payment is disputed, so that no further automatic charge hits that card.
    auto_topup_suspended = models.BooleanField(default=False)
    auto_topup_suspended_reason = models.CharField(max_length=200, blank=True)
    # Set while one request changes the account's plan in Stripe, so that a concurrent one
    # cannot create a second subscription. A claim older than PLAN_CHANGE_CLAIM_SECONDS is stale.
    plan_change_started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Billing profile of {self.account}"


class SavedCard(models.Model):
    """A card attached to the account's Stripe customer. Only display details are kept, never the number."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="saved_cards")
    stripe_payment_method_id = models.CharField(max_length=255, unique=True)
    brand = models.CharField(max_length=32, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"


class Payment(models.Model):
    """A card payment that adds funds to the wallet: one Stripe PaymentIntent, made directly or through Checkout."""

    class Status(models.TextChoices):
        PENDING = "pending"  # created here; the PaymentIntent may not exist yet
        REQUIRES_ACTION = "requires_action"  # waiting for the cardholder's authentication (3-D Secure)
        SUCCEEDED = "succeeded"  # paid; the wallet was credited
        FAILED = "failed"  # declined, failed authentication, or canceled

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments")
    # Sent to Stripe as the idempotency key, so a retried create makes one PaymentIntent.
    idempotency_key = models.UUIDField(unique=True)
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # Set for a top-up paid on Stripe Checkout's hosted page; its PaymentIntent id arrives when it is paid.
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    refunded_cents = models.PositiveIntegerField(default=0)
    card_brand = models.CharField(max_length=32, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded_cents__lte=models.F("amount_cents")), name="billing_payment_refund_le_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.receipt_number} ({self.status})"

    @property
    def receipt_number(self) -> str:
        return f"M3O-{self.pk:08d}"

    @property
    def amount_units(self) -> int:
        return self.amount_cents * UNITS_PER_CENT

    @property
    def refunded_units(self) -> int:
        return self.refunded_cents * UNITS_PER_CENT


class Dispute(models.Model):
    """A chargeback opened by the cardholder's bank on one payment."""

    stripe_dispute_id = models.CharField(max_length=255, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="disputes")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes")
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Dispute {self.stripe_dispute_id} ({self.status})"


class StripeEvent(models.Model):
    """A Stripe webhook event that was processed. The unique id makes a redelivery a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    # The id of the event's data.object (pm_..., pi_...), so a handler can see what happened to it before.
    object_id = models.CharField(max_length=255, blank=True, default="")
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["object_id", "type"], name="billing_stripeevent_object")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Invoice(models.Model):
    """A monthly statement of an account's charged calls, issued after the month ends in the account's zone.

    Calls are paid from the prepaid balance as they happen, so the invoice
    records what was charged; it collects no money.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="invoices")
    # The first day of the invoiced month, in the account's zone.
    month = models.DateField()
    number = models.CharField(max_length=32, unique=True)
    time_zone = models.CharField(max_length=64)
    # The period covered: [starts_at, ends_at), so a call at exactly midnight on the 1st belongs to the new month.
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    usage_units = models.BigIntegerField(help_text="Exact sum of the usage lines, in units.")
    total_cents = models.BigIntegerField(help_text="usage_units rounded half up to whole cents, once.")
    issued_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="billing_invoice_one_per_account_month"),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"

    @property
    def total_units(self) -> int:
        return self.total_cents * UNITS_PER_CENT


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        USAGE = "usage"  # charged calls of one service endpoint; summed into the total
        CREDIT = "credit"  # a top-up, grant, refund or adjustment in the month; listed, not in the total

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    service = models.CharField(max_length=64, blank=True)
    endpoint = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=200)
    calls = models.BigIntegerField(default=0)
    amount_units = models.BigIntegerField()
    occurred_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invoice", "id"]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount_units}"


class AutoTopup(models.Model):
    """One automatic top-up: a charge of the saved card when the balance fell below the threshold."""

    class Status(models.TextChoices):
        PENDING = "pending"  # queued or being retried
        SUCCEEDED = "succeeded"  # the payment succeeded and credited the wallet
        FAILED = "failed"  # declined, or out of retries; the owners were emailed

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="auto_topups")
    # Reused as the payment's idempotency key, so a retried task charges once.
    idempotency_key = models.UUIDField(unique=True)
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="auto_topup")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    amount_cents = models.PositiveIntegerField()
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one attempt in flight per account, so the minute check cannot queue a second one.
            models.UniqueConstraint(
                fields=["account"], condition=models.Q(status="pending"), name="billing_autotopup_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"Auto top-up {self.pk} ({self.status})"


class BalanceAlert(models.Model):
    """An email to the account when its balance falls below a threshold, once per crossing.

    The threshold is either an absolute amount or a percentage of the last
    top-up (the latest card payment credited), so it follows the size of the
    account's top-ups. A percentage alert waits for the account's first top-up.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="balance_alerts")
    # Exactly one of the two is set (see the check constraint).
    threshold_units = models.BigIntegerField(null=True, blank=True)
    percent_of_last_topup = models.PositiveSmallIntegerField(null=True, blank=True)
    # True while the balance is at or above the threshold; the alert fires when it goes below and disarms.
    armed = models.BooleanField(default=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-threshold_units"]
        constraints = [
            models.UniqueConstraint(fields=["account", "threshold_units"], name="billing_alert_unique_threshold"),
            models.UniqueConstraint(fields=["account", "percent_of_last_topup"], name="billing_alert_unique_percent"),
            models.CheckConstraint(condition=models.Q(threshold_units__gt=0), name="billing_alert_threshold_positive"),
            models.CheckConstraint(
                condition=(
                    models.Q(threshold_units__isnull=False, percent_of_last_topup__isnull=True)
                    | models.Q(threshold_units__isnull=True, percent_of_last_topup__gte=1, percent_of_last_topup__lte=99)
                ),
                name="billing_alert_amount_or_percent",
            ),
        ]

    def __str__(self) -> str:
        if self.percent_of_last_topup is not None:
            return f"Alert below {self.percent_of_last_topup}% of the last top-up"
        return f"Alert below {self.threshold_units} units"


class Plan(models.Model):
    """A subscription plan, defined by operators in admin."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    monthly_price_cents = models.PositiveIntegerField(default=0, help_text="US cents a month; 0 for a free plan.")
    included_free_calls = models.PositiveIntegerField(default=0, help_text="Calls a month that are not charged.")
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text="Calls a minute per account; empty: the platform default.")
    storage_cap_mb = models.PositiveIntegerField(
        null=True, blank=True, help_text="Bytes each data service may store for an account, in MB; empty: no cap."
    )
    max_rows_per_service = models.PositiveIntegerField(
        null=True, blank=True, help_text="Rows each data service may store for an account; empty: the platform default."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive plans cannot be chosen; subscribers keep them.")
    is_default = models.BooleanField(default=False, help_text="The plan of accounts without a subscription.")
    # Created in Stripe on first subscription, one per plan and price.
    stripe_plan_id = models.CharField(max_length=255, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "monthly_price_cents", "id"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True), name="billing_plan_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """An account's current plan and, for a paid plan, its Stripe subscription."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, primary_key=True, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(max_length=32, default="active")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.account} on {self.plan}"
