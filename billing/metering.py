"""Charging and usage recording for gateway calls, behind one small interface.

The gateway calls ``reserve`` before dispatching a call and ``settle`` after it,
whatever the outcome. Two meters implement it; ``M3O_METER`` picks one
(``redis`` by default when REDIS_URL is set, else ``database``).

``DatabaseMeter`` (the embedded default) writes straight to the database: a
conditional UPDATE reserves, one transaction settles.

``RedisMeter`` (production) writes no database row per call. One Lua script
reserves (free quota, balance, debt, spending cap) and a second one settles,
appending the usage event to a Redis stream. The gateway responds to a
successful call before settling it: ``SettleQueue`` sends the settlements
a process has queued in one script run, from a thread of its own. ``billing.flusher`` moves the
stream into PostgreSQL in batches: usage events, one ledger row per account
and batch for their total, and one balance change per wallet, idempotently
by request id.

How the Redis balance follows PostgreSQL
----------------------------------------
PostgreSQL stays the book of record. A wallet contains ``balance_units``,
``debt_units`` and ``metered_units``, the usage the flusher has charged so
far. A flush lowers the balance and raises ``metered_units`` by the same
amount (the debt takes what the balance cannot), so

    credit = balance + metered - debt

changes only when money moves outside metering: top-ups, grants, refunds,
adjustments. Redis keeps, per account:

- ``s:<account>``, a snapshot of ``credit``, the debt and the spending cap,
  read from PostgreSQL on first use and kept for ``SNAPSHOT_TTL_SECONDS``;
- ``w:<account>``, ``used``: every unit this meter ever reserved or charged,
  flushed or not, started at ``metered_units`` the first time Redis meters the
  account; and the units charged in the current month, for the cap.

The spendable balance is ``credit - used``, and the reserve script checks and
raises ``used`` in one step, so parallel calls cannot overdraw. A flush
changes neither ``credit`` nor ``used``, so a snapshot read before, during or
after a flush is equally right: there is no window where a flushed charge is
counted twice or not at all.

Every ledger entry written outside metering (``wallet_apply``: top-ups,
grants, refunds, adjustments) invalidates the account's snapshot, once at
once and again after its transaction commits, through a generation counter:
a process reloads the snapshot only if the generation it read before
querying PostgreSQL is still current, so a reload racing a commit cannot
store the old figure. If the process dies between the commit and the
invalidation, the snapshot is at most ``SNAPSHOT_TTL_SECONDS`` old. In that
window a debit (a refund) may not be seen yet; the flusher then takes what
the balance cannot cover as debt, which blocks the account's calls, so a
balance never goes below zero.

Loss bound on a Redis crash
---------------------------
Only what lives in Redis alone can be lost: usage events not yet flushed
(at most the calls of one flush interval, ``M3O_METER_FLUSH_SECONDS``, plus
what Redis's own persistence loses) and free-call counts not yet copied to
PostgreSQL. Those calls are then neither charged nor recorded: customers are
never charged for a lost call, nor twice for one. A web process that dies
loses the same way the settlements it had queued but not sent (the calls of
``SettleQueue.LINGER_SECONDS``, 10 ms, and of one round trip): their holds
expire and they are not charged. Nothing in PostgreSQL is
touched, and the next call reloads the account from PostgreSQL. Redis must
run with ``maxmemory-policy noeviction``, as evicting ``w:<account>`` alone
would lose its unflushed charges the same way.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis
import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from billing.models import FreeUsage, Hold, LedgerEntry, UsageEvent, Wallet
from billing.redis_scripts import ScriptRunner
from billing.quotas import ALLOWANCE_SCOPE, FreeCall, Pricing, call_cost, free_call_return, month_start

logger = structlog.get_logger(__name__)


class InsufficientCredit(Exception):
    """The balance does not cover the price, or the account owes debt.

    ``balance_units`` is the balance minus any debt, so it is negative while
    the account owes money (after a refund that exceeded the balance).
    """

    def __init__(self, *, balance_units: int, price_units: int) -> None:
        super().__init__(f"balance {balance_units} is below the price {price_units}")
        self.balance_units = balance_units
        self.price_units = price_units


class SpendingCapReached(Exception):
    """The call would take the month's charges past the account's spending cap."""

    def __init__(self, *, cap_units: int, spent_units: int, price_units: int) -> None:
        super().__init__(f"spent {spent_units} of the cap {cap_units}; the call costs {price_units}")
        self.cap_units = cap_units
        self.spent_units = spent_units
        self.price_units = price_units


class MeterUnavailable(Exception):
    """The meter's store cannot be reached, so the call cannot be priced safely."""


class EpochsChanged(Exception):
    """A cache epoch the caller relied on changed: reload what it cached and try again. Nothing was counted."""

    def __init__(self, values: list[bytes | None]) -> None:
        super().__init__("cache epochs changed")
        self.values = values


class RateLimitExceeded(Exception):
    """The key or the account used up its calls in the current window. Nothing was counted."""

    def __init__(self, *, key_count: int, account_count: int) -> None:
        super().__init__("rate limit exceeded")
        self.key_count = key_count
        self.account_count = account_count


@dataclass(frozen=True, slots=True)
class RateWindow:
    """A fixed-window rate limit for the Redis meter to check and count with the reservation."""

    key_counter: str
    account_counter: str
    key_limit: int
    account_limit: int
    ttl_seconds: int


@dataclass(frozen=True, slots=True)
class EpochGuard:
    """Cache epochs (raw values, Redis keys) the caller's in-process caches were read under."""

    keys: tuple[str, ...]
    values: tuple[bytes | None, ...]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """The facts the gateway records about a finished call."""

    request_id: str
    account_id: int
    api_key_id: int | None
    service: str
    endpoint: str
    status_code: int
    latency_ms: int
    source: str = UsageEvent.Source.API


@dataclass(frozen=True, slots=True)
class Reservation:
    """The cost one call reserved, and the free-call counter it used, if any."""

    cost_units: int
    free_scope: str
    month: dt.date
    # Calls counted in the rate-limit window (key, account) when the meter checked the limit.
    rate_counts: tuple[int, int] | None = None
    # The spendable balance after the reservation, when the meter has it without a query.
    balance_units: int | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    charged_units: int
    balance_units: int


class Meter(Protocol):
    def reserve(self, *, account_id: int, request_id: str, pricing: Pricing) -> Reservation:
        """Decide the call's cost and take it from the balance for the call's duration.

        Raise InsufficientCredit if it does not fit or the account owes debt,
        SpendingCapReached if it would pass the month's spending cap.
        """

    def settle(self, *, record: CallRecord, reservation: Reservation | None) -> Settlement:
        """Charge the reservation if the call succeeded (2xx), release it otherwise.

        Record one usage event and return what was charged and the balance
        afterwards. Settling the same request id twice changes nothing the
        second time.
        """

    def release(self, *, account_id: int, request_id: str, reservation: Reservation) -> None:
        """Give a reservation back without recording a call (an idempotent replay)."""

    def balance(self, *, account_id: int) -> int:
        """Return the account's spendable balance minus any debt, in units."""


def is_chargeable(status_code: int) -> bool:
    return 200 <= status_code < 300


def month_charged_units(*, account_id: int, month: dt.date) -> int:
    """Units charged for usage since the start of ``month`` (UTC), ledger and open holds together.

    One statement, so a settlement turning a hold into a ledger row is seen
    either before or after, never half.
    """
    start = dt.datetime.combine(month, dt.time.min, tzinfo=dt.UTC)
    ledger = LedgerEntry.objects.filter(wallet_id=account_id, kind=LedgerEntry.Kind.USAGE, created_at__gte=start)
    holds = Hold.objects.filter(wallet_id=account_id)
    totals = Wallet.objects.filter(pk=account_id).annotate(
        charged=_subquery_sum(ledger, "amount_units"), held=_subquery_sum(holds, "amount_units")
    ).values_list("charged", "held").first()
    if totals is None:
        return 0
    charged, held = totals
    return -(charged or 0) + (held or 0)


def _subquery_sum(queryset: Any, field: str) -> Subquery:
    return Subquery(
        queryset.filter(wallet_id=OuterRef("pk")).order_by().values("wallet_id").annotate(total=Sum(field)).values("total")[:1]
    )


class DatabaseMeter:
    """Meter on the database: a conditional UPDATE reserves, one transaction settles."""

    def reserve(self, *, account_id: int, request_id: str, pricing: Pricing) -> Reservation:
        cost = call_cost(account_id=account_id, pricing=pricing)
        try:
            self._reserve_units(account_id=account_id, request_id=request_id, price_units=cost.units)
        except (InsufficientCredit, SpendingCapReached):
            if cost.free_call is not None:
                free_call_return(cost.free_call)
            raise
        scope = cost.free_call.scope if cost.free_call else ""
        return Reservation(cost_units=cost.units, free_scope=scope, month=month_start(timezone.now()))

    def _reserve_units(self, *, account_id: int, request_id: str, price_units: int) -> None:
        # An account in debt gets 402 on every call, free ones included, until a top-up pays the debt.
        if price_units <= 0:
            if Wallet.objects.filter(pk=account_id, debt_units__gt=0).exists():
                raise InsufficientCredit(balance_units=self.balance(account_id=account_id), price_units=price_units)
            return
        with transaction.atomic():
            # The condition makes check-and-debit one statement, so parallel
            # calls cannot both pass the check on the same last units. The
            # UPDATE also locks the wallet row until commit, which serialises
            # the spending-cap check below between parallel calls.
            updated = Wallet.objects.filter(pk=account_id, balance_units__gte=price_units, debt_units=0).update(
                balance_units=F("balance_units") - price_units
            )
            if not updated:
                raise InsufficientCredit(balance_units=self.balance(account_id=account_id), price_units=price_units)
            cap = Wallet.objects.filter(pk=account_id).values_list("spending_cap_units", flat=True).first()
            if cap is not None:
                spent = month_charged_units(account_id=account_id, month=month_start(timezone.now()))
                if spent + price_units > cap:
                    raise SpendingCapReached(cap_units=cap, spent_units=spent, price_units=price_units)
            Hold.objects.create(wallet_id=account_id, request_id=request_id, amount_units=price_units)

    def settle(self, *, record: CallRecord, reservation: Reservation | None) -> Settlement:
        price_units = reservation.cost_units if reservation else 0
        charge = is_chargeable(record.status_code) and price_units > 0
        if reservation and reservation.free_scope and not is_chargeable(record.status_code):
            free_call_return(FreeCall(record.account_id, reservation.month, reservation.free_scope))
        try:
            with transaction.atomic():
                held = Hold.objects.filter(request_id=record.request_id).delete()[0] if price_units > 0 else 0
                if price_units > 0 and not held:
                    # The hold was released by holds_release_expired before the call ended.
                    charge = charge and self._debit_late(record, price_units)
                if charge:
                    LedgerEntry.objects.create(
                        wallet_id=record.account_id,
                        kind=LedgerEntry.Kind.USAGE,
                        amount_units=-price_units,
                        reference=f"usage:{record.request_id}",
                        description=f"{record.service}/{record.endpoint}",
                    )
                elif held:
                    Wallet.objects.filter(pk=record.account_id).update(balance_units=F("balance_units") + price_units)
                UsageEvent.objects.create(
                    request_id=record.request_id,
                    account_id=record.account_id,
                    api_key_id=record.api_key_id,
                    service=record.service,
                    endpoint=record.endpoint,
                    status_code=record.status_code,
                    cost_units=price_units if charge else 0,
                    latency_ms=record.latency_ms,
                    source=record.source,
                )
        except IntegrityError:
            # The usage event or ledger reference exists: this request id was settled already.
            logger.warning("Call already settled", request_id=record.request_id, account_id=record.account_id)
            charge = False
        return Settlement(
            charged_units=price_units if charge else 0, balance_units=self.balance(account_id=record.account_id)
        )

    def release(self, *, account_id: int, request_id: str, reservation: Reservation) -> None:
        if reservation.free_scope:
            free_call_return(FreeCall(account_id, reservation.month, reservation.free_scope))
        if reservation.cost_units <= 0:
            return
        with transaction.atomic():
            if Hold.objects.filter(request_id=request_id).delete()[0]:
                Wallet.objects.filter(pk=account_id).update(balance_units=F("balance_units") + reservation.cost_units)

    def _debit_late(self, record: CallRecord, price_units: int) -> bool:
        debited = Wallet.objects.filter(pk=record.account_id, balance_units__gte=price_units).update(
            balance_units=F("balance_units") - price_units
        )
        if not debited:
            logger.error(
                "Call not charged: hold expired and balance too low",
                request_id=record.request_id,
                account_id=record.account_id,
                price_units=price_units,
            )
        return bool(debited)

    def balance(self, *, account_id: int) -> int:
        """Return the spendable balance minus any debt, in units."""
        row = Wallet.objects.filter(pk=account_id).values_list("balance_units", "debt_units").first()
        if row is None:
            return 0
        balance_units, debt_units = row
        return balance_units - debt_units


# --- Redis meter -------------------------------------------------------------

PREFIX = "m3o:meter:"
STREAM_KEY = PREFIX + "events"
HOLDS_KEY = PREFIX + "holds"
FREE_DIRTY_KEY = PREFIX + "free-dirty"
NO_KEY = PREFIX + "none"
SNAPSHOT_TTL_SECONDS = 60
FREE_COUNTER_TTL_SECONDS = 40 * 86400


def usage_line_parts(record: CallRecord, *, at: dt.datetime) -> tuple[str, str]:
    """The call's usage event as one line of PostgreSQL COPY text, split where the charged units go.

    The flusher hands these lines to COPY as they are, so a batch needs no
    parsing in Python. Columns: billing.flusher.USAGE_COLUMNS.
    """
    head = (
        f"{_copy_text(record.request_id)}\t{record.account_id}\t"
        f"{record.api_key_id if record.api_key_id is not None else COPY_NULL}\t"
        f"{_copy_text(record.service)}\t{_copy_text(record.endpoint)}\t{record.status_code}\t"
    )
    tail = f"\t{record.latency_ms}\t{_copy_text(record.source)}\t{at.isoformat()}"
    return head, tail


COPY_NULL = "\\N"


def _copy_text(value: str) -> str:
    # COPY text format: backslash, tab, newline and carriage return must be escaped.
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def snapshot_key(account_id: int) -> str:
    return f"{PREFIX}s:{account_id}"


def wallet_key(account_id: int) -> str:
    return f"{PREFIX}w:{account_id}"


def generation_key(account_id: int) -> str:
    return f"{PREFIX}g:{account_id}"


def free_key(account_id: int, month: dt.date, scope: str) -> str:
    return f"{PREFIX}f:{account_id}:{month:%Y-%m}:{scope}"


# Shared by the scripts: split a hold value "cost|month|scope|account|time".
_SPLIT = """
local function split(value)
  local parts = {}
  local start = 1
  while true do
    local bar = string.find(value, '|', start, true)
    if not bar then table.insert(parts, string.sub(value, start)) break end
    table.insert(parts, string.sub(value, start, bar - 1))
    start = bar + 1
  end
  return parts
end
"""

# KEYS: snapshot, wallet, holds, endpoint free counter, allowance free counter, free-dirty set,
#       key rate counter, account rate counter, then the guarded epochs.
# ARGV: request id, price, endpoint free quota, allowance, price past the allowance,
#       month, endpoint scope, hold suffix ("account|time"), key limit (0: no rate limit),
#       account limit, rate counter ttl, number of epochs, then the epochs' expected values.
# Returns {-3, epochs...} when an epoch changed and {-1} when the account must be loaded
# first, both before counting anything; otherwise {status, key count, account count, ...}:
# status 3 rate limited; -2 request id in flight; 0 insufficient credit or debt (balance,
# cost); 2 spending cap (balance, cap, spent, cost); 1 reserved (cost, balance after, scope).
_RESERVE = """
local epochs = tonumber(ARGV[12])
if epochs > 0 then
  local current = redis.call('MGET', unpack(KEYS, 9, 8 + epochs))
  local changed = false
  for i = 1, epochs do
    current[i] = current[i] or ''
    if current[i] ~= ARGV[12 + i] then changed = true end
  end
  if changed then
    table.insert(current, 1, -3)
    return current
  end
end

local price, quota, allowance = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local snapshot = redis.call('HMGET', KEYS[1], 'credit', 'debt', 'cap')
local wallet = redis.call('HMGET', KEYS[2], 'used', 'month', 'spent')
if not snapshot[1] or not wallet[1] then return {-1} end
local free_used, allowance_used = 0, 0
if quota > 0 then
  free_used = redis.call('GET', KEYS[4])
  if not free_used then return {-1} end
end
if price <= 0 and allowance > 0 then
  allowance_used = redis.call('GET', KEYS[5])
  if not allowance_used then return {-1} end
end

-- Count first and take the call back if it is over a limit: one command per counter
-- for the calls that pass. A counter's window starts with its first call.
local key_count, account_count = 0, 0
local key_limit, account_limit = tonumber(ARGV[9]), tonumber(ARGV[10])
if key_limit > 0 then
  key_count = redis.call('INCR', KEYS[7])
  account_count = redis.call('INCR', KEYS[8])
  if key_count == 1 then redis.call('EXPIRE', KEYS[7], tonumber(ARGV[11])) end
  if account_count == 1 then redis.call('EXPIRE', KEYS[8], tonumber(ARGV[11])) end
  if key_count > key_limit or account_count > account_limit then
    redis.call('DECR', KEYS[7])
    redis.call('DECR', KEYS[8])
    return {3, key_count - 1, account_count - 1}
  end
end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return {-2, key_count, account_count} end

local credit, debt, cap = tonumber(snapshot[1]), tonumber(snapshot[2]), tonumber(snapshot[3])
local used, spent = tonumber(wallet[1]), tonumber(wallet[3]) or 0
-- A call priced just before a month began can run after a call of the new month. It is
-- counted in the newer month, where its settlement's ledger row also goes.
local month = ARGV[6]
if wallet[2] and wallet[2] > month then month = wallet[2] end
local new_month = wallet[2] ~= month
if new_month then spent = 0 end
local balance = credit - used
if debt > 0 then return {0, key_count, account_count, balance, price} end

local cost, scope = -1, ''
if quota > 0 and tonumber(free_used) < quota then
  cost, scope = 0, ARGV[7]
end
if cost < 0 and price > 0 then cost = price end
if cost < 0 and allowance > 0 and tonumber(allowance_used) < allowance then
  cost, scope = 0, 'allowance'
end
if cost < 0 then cost = tonumber(ARGV[5]) end

if cost > 0 then
  if balance < cost then return {0, key_count, account_count, balance, cost} end
  if cap and spent + cost > cap then return {2, key_count, account_count, balance, cap, spent, cost} end
  redis.call('HINCRBY', KEYS[2], 'used', cost)
  if new_month then
    redis.call('HSET', KEYS[2], 'month', month, 'spent', cost)
  else
    redis.call('HINCRBY', KEYS[2], 'spent', cost)
  end
elseif scope == 'allowance' then
  redis.call('INCR', KEYS[5])
  redis.call('SADD', KEYS[6], KEYS[5])
elseif scope ~= '' then
  redis.call('INCR', KEYS[4])
  redis.call('SADD', KEYS[6], KEYS[4])
end
-- A free call's hold keeps the month of its free counter (KEYS[4] or KEYS[5]).
if cost == 0 then month = ARGV[6] end
redis.call('HSET', KEYS[3], ARGV[1], cost .. '|' .. month .. '|' .. scope .. '|' .. ARGV[8])
return {1, key_count, account_count, cost, balance - cost, scope}
"""

# Give back what a hold took: the units, the month's spending and the free call.
_GIVE_BACK = """
local function give_back(hold, wallet_key, free_key)
  local parts = split(hold)
  local cost = tonumber(parts[1])
  if cost > 0 then
    redis.call('HINCRBY', wallet_key, 'used', -cost)
    if redis.call('HGET', wallet_key, 'month') == parts[2] then
      redis.call('HINCRBY', wallet_key, 'spent', -cost)
    end
  end
  if parts[3] ~= '' and tonumber(redis.call('GET', free_key) or '0') > 0 then
    redis.call('DECR', free_key)
    redis.call('SADD', KEYS[6], free_key)
  end
  return cost
end
"""

# KEYS: holds, wallet, stream, free counter of the hold, snapshot, free-dirty set.
# ARGV: request id, chargeable (1/0), reserved (1/0), the event's line up to its cost and after it.
# Returns {charged or -1 if already settled, balance or false}.
_SETTLE = (
    _SPLIT
    + _GIVE_BACK
    + """
local hold = redis.call('HGET', KEYS[1], ARGV[1])
local charged = 0
if hold then
  redis.call('HDEL', KEYS[1], ARGV[1])
  if ARGV[2] == '1' then
    charged = tonumber(split(hold)[1])
  else
    give_back(hold, KEYS[2], KEYS[4])
  end
elseif ARGV[3] == '1' then
  charged = -1
end
if charged >= 0 then
  redis.call('XADD', KEYS[3], '*', 'v', ARGV[4] .. charged .. ARGV[5])
end
local credit = redis.call('HGET', KEYS[5], 'credit')
local used = redis.call('HGET', KEYS[2], 'used')
if credit and used then return {charged, tonumber(credit) - tonumber(used)} end
return {charged, false}
"""
)

# Charges successful calls whose responses went out already (SettleQueue), many in one run.
# KEYS: holds, stream. ARGV: per call, its request id and its event's line up to the cost and after it.
# Appends the charged calls' events as one stream entry, one line each, and returns the
# request ids that had no hold (settled already, or released when the hold expired).
_SETTLE_SENT = (
    _SPLIT
    + """
local ids = {}
for i = 1, #ARGV, 3 do table.insert(ids, ARGV[i]) end
local holds = redis.call('HMGET', KEYS[1], unpack(ids))
local settled, lines, missing = {}, {}, {}
for i = 1, #ids do
  local hold = holds[i]
  if hold then
    table.insert(settled, ids[i])
    table.insert(lines, ARGV[3 * i - 1] .. split(hold)[1] .. ARGV[3 * i])
  else
    table.insert(missing, ids[i])
  end
end
if #settled > 0 then
  redis.call('HDEL', KEYS[1], unpack(settled))
  redis.call('XADD', KEYS[2], '*', 'v', table.concat(lines, '\\n'))
end
return missing
"""
)

# KEYS: holds, wallet, free counter, (unused), (unused), free-dirty set. ARGV: request id, expected hold value.
_RELEASE = (
    _SPLIT
    + _GIVE_BACK
    + """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
give_back(ARGV[2], KEYS[2], KEYS[3])
return 1
"""
)

# KEYS: generation, snapshot, wallet, free counters... ARGV: generation read before the
# database, credit, debt, cap ('' for none), snapshot ttl, used, month, spent, free counts...
_LOAD = """
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'credit', ARGV[2], 'debt', ARGV[3], 'cap', ARGV[4])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
if redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('HSET', KEYS[3], 'used', ARGV[6], 'month', ARGV[7], 'spent', ARGV[8])
end
for i = 4, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 5], 'NX', 'EX', tonumber(ARGV[#ARGV]))
end
return 1
"""

_INVALIDATE = """
redis.call('INCR', KEYS[1])
redis.call('DEL', KEYS[2])
return 1
"""


def redis_client() -> redis.Redis:
    """The meter's Redis connection pool, one per process."""
    global _client
    with _client_lock:
        if _client is None:
            _client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2, health_check_interval=30
            )
        return _client


_client: redis.Redis | None = None
_client_lock = threading.Lock()


class RedisMeter:
    """Meter on Redis: one script reserves, one settles; billing.flusher writes PostgreSQL in batches."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._scripts = ScriptRunner(client)
        # Made by settle_later on first use, so that a meter on another Redis has its own.
        self.settle_queue: SettleQueue | None = None
        self._reserve = client.register_script(_RESERVE)
        self._settle = client.register_script(_SETTLE)
        self._settle_sent = client.register_script(_SETTLE_SENT)
        self._release = client.register_script(_RELEASE)
        self._load_script = client.register_script(_LOAD)

    def reserve(
        self,
        *,
        account_id: int,
        request_id: str,
        pricing: Pricing,
        rate: RateWindow | None = None,
        guard: EpochGuard | None = None,
    ) -> Reservation:
        """Reserve as the Meter protocol says; with ``rate`` and ``guard``, in the same script also
        check the caller's cache epochs (EpochsChanged) and count the rate limit (RateLimitExceeded)."""
        now = timezone.now()
        month = month_start(now)
        endpoint_scope = f"endpoint:{pricing.endpoint_id}"
        guard = guard or EpochGuard((), ())
        keys = [
            snapshot_key(account_id),
            wallet_key(account_id),
            HOLDS_KEY,
            free_key(account_id, month, endpoint_scope) if pricing.free_quota > 0 else NO_KEY,
            free_key(account_id, month, ALLOWANCE_SCOPE) if pricing.allowance > 0 else NO_KEY,
            FREE_DIRTY_KEY,
            rate.key_counter if rate else NO_KEY,
            rate.account_counter if rate else NO_KEY,
            *guard.keys,
        ]
        args = [
            request_id,
            pricing.price_units,
            pricing.free_quota,
            pricing.allowance,
            pricing.past_allowance_units,
            f"{month:%Y-%m}",
            endpoint_scope,
            f"{account_id}|{now.timestamp():.3f}",
            rate.key_limit if rate else 0,
            rate.account_limit if rate else 0,
            rate.ttl_seconds if rate else 0,
            len(guard.keys),
            *[value or b"" for value in guard.values],
        ]
        for _ in range(3):
            result = self._run(self._reserve, keys, args)
            if result[0] != -1:
                break
            self._load(account_id=account_id, month=month, free_keys=[k for k in keys[3:5] if k != NO_KEY])
        else:
            raise MeterUnavailable("The account's balance could not be loaded into the meter.")

        status = int(result[0])
        if status == -3:
            raise EpochsChanged([value or None for value in result[1:]])
        counts = (int(result[1]), int(result[2]))
        if status == 3:
            raise RateLimitExceeded(key_count=counts[0], account_count=counts[1])
        if status == -2:
            raise ValueError(f"Request id {request_id} is already in flight.")
        if status == 0:
            raise InsufficientCredit(balance_units=int(result[3]), price_units=int(result[4]))
        if status == 2:
            raise SpendingCapReached(cap_units=int(result[4]), spent_units=int(result[5]), price_units=int(result[6]))
        scope = result[5].decode() if isinstance(result[5], bytes) else str(result[5])
        return Reservation(
            cost_units=int(result[3]),
            free_scope=scope,
            month=month,
            rate_counts=counts if rate else None,
            balance_units=int(result[4]),
        )

    def release(self, *, account_id: int, request_id: str, reservation: Reservation) -> None:
        value = self._redis.hget(HOLDS_KEY, request_id)
        if value is not None:
            self.release_hold(request_id=request_id, value=value.decode())

    def settle(self, *, record: CallRecord, reservation: Reservation | None) -> Settlement:
        keys, args = self._settle_arguments(record, reservation)
        charged, balance = self._run(self._settle, keys, args)
        charged = self._charged(record, charged)
        if balance is None:
            balance = self.balance(account_id=record.account_id)
        return Settlement(charged_units=charged, balance_units=int(balance))

    def settle_many(self, calls: list[tuple[CallRecord, Reservation]]) -> None:
        """Charge successful calls whose responses went out already, in one script run.

        The callers already know each call's cost and balance, so only
        failures are reported (logged). Settling is idempotent by request id,
        so after a connection error the whole batch is sent once more.
        """
        at = timezone.now()
        args: list[str] = []
        for record, reservation in calls:
            if not is_chargeable(record.status_code):
                raise ValueError(f"settle_many charges successful calls only; {record.request_id} failed")
            args.append(record.request_id)
            args.extend(usage_line_parts(record, at=at))
        for attempt in range(2):
            try:
                missing = self._scripts.run(self._settle_sent, [HOLDS_KEY, STREAM_KEY], args)
                break
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if attempt:
                    raise MeterUnavailable(str(exc)) from exc
        for request_id in missing:
            logger.warning("Call already settled or its hold expired", request_id=request_id.decode())

    def _settle_arguments(self, record: CallRecord, reservation: Reservation | None) -> tuple[list[str], list[Any]]:
        scope_key = NO_KEY
        if reservation is not None and reservation.free_scope:
            scope_key = free_key(record.account_id, reservation.month, reservation.free_scope)
        keys = [
            HOLDS_KEY,
            wallet_key(record.account_id),
            STREAM_KEY,
            scope_key,
            snapshot_key(record.account_id),
            FREE_DIRTY_KEY,
        ]
        args = [
            record.request_id,
            1 if is_chargeable(record.status_code) else 0,
            1 if reservation is not None else 0,
            *usage_line_parts(record, at=timezone.now()),
        ]
        return keys, args

    @staticmethod
    def _charged(record: CallRecord, charged: Any) -> int:
        if int(charged) < 0:
            logger.warning("Call already settled or its hold expired", request_id=record.request_id,
                           account_id=record.account_id)
            return 0
        return int(charged)

    def balance(self, *, account_id: int) -> int:
        credit, used = self._redis.hget(snapshot_key(account_id), "credit"), self._redis.hget(
            wallet_key(account_id), "used"
        )
        if credit is None or used is None:
            self._load(account_id=account_id, month=month_start(timezone.now()), free_keys=[])
            credit, used = self._redis.hget(snapshot_key(account_id), "credit"), self._redis.hget(
                wallet_key(account_id), "used"
            )
        if credit is None or used is None:
            return DatabaseMeter().balance(account_id=account_id)
        return int(credit) - int(used)

    def release_hold(self, *, request_id: str, value: str) -> bool:
        """Give back a hold (stale, or of a replayed call), unless it was settled meanwhile."""
        cost, month, scope, account, _ = value.split("|")
        account_id = int(account)
        counter = free_key(account_id, dt.date.fromisoformat(month + "-01"), scope) if scope else NO_KEY
        keys = [HOLDS_KEY, wallet_key(account_id), counter, NO_KEY, NO_KEY, FREE_DIRTY_KEY]
        return bool(self._run(self._release, keys, [request_id, value]))

    def _load(self, *, account_id: int, month: dt.date, free_keys: list[str]) -> None:
        """Copy the account's figures from PostgreSQL into Redis (see the module docstring)."""
        generation = self._redis.get(generation_key(account_id)) or b""
        row = (
            Wallet.objects.filter(pk=account_id)
            .values_list("balance_units", "debt_units", "metered_units", "spending_cap_units")
            .first()
        )
        balance_units, debt_units, metered_units, cap = row or (0, 0, 0, None)
        start = dt.datetime.combine(month, dt.time.min, tzinfo=dt.UTC)
        spent = -(
            LedgerEntry.objects.filter(
                wallet_id=account_id, kind=LedgerEntry.Kind.USAGE, created_at__gte=start
            ).aggregate(total=Sum("amount_units"))["total"]
            or 0
        )
        counts = []
        for key in free_keys:
            scope = key.split(":", 5)[5]
            counts.append(
                FreeUsage.objects.filter(account_id=account_id, month=month, scope=scope)
                .values_list("used", flat=True)
                .first()
                or 0
            )
        keys = [generation_key(account_id), snapshot_key(account_id), wallet_key(account_id), *free_keys]
        args = [
            generation,
            balance_units + metered_units - debt_units,
            debt_units,
            "" if cap is None else cap,
            SNAPSHOT_TTL_SECONDS,
            metered_units,
            f"{month:%Y-%m}",
            spent,
            *counts,
            FREE_COUNTER_TTL_SECONDS,
        ]
        self._run(self._load_script, keys, args)

    def _run(self, script: Any, keys: list[Any], args: list[Any]) -> Any:
        try:
            return self._scripts.run(script, keys, args)
        except redis.RedisError as exc:
            raise MeterUnavailable(str(exc)) from exc


class SettleQueue:
    """A background sender of successful calls' settlements, many to one Redis round trip.

    A successful call's cost and balance are known from its reservation, so
    the gateway responds first and queues the settlement here. One thread per
    process waits LINGER_SECONDS after the first call queues, then sends what
    queued up meanwhile, so that under load one round trip settles many
    calls. If the process dies before that, the holds expire and those calls
    are not charged, as when a process dies during a call. At exit the queue
    is drained.
    """

    MAX_BATCH = 500
    # Each round trip costs the web process far more CPU time than packing one
    # more call into it, so the thread waits this long for more calls first.
    LINGER_SECONDS = 0.01

    def __init__(self, meter: RedisMeter) -> None:
        self._meter = meter
        self._pid = -1
        self._start()

    def _start(self) -> None:
        # Also after a fork: the parent's thread, lock and calls stay behind.
        self._pid = os.getpid()
        self._pending: list[tuple[CallRecord, Reservation]] = []
        self._sending = 0
        self._changed = threading.Condition()
        threading.Thread(target=self._run, name="meter-settle", daemon=True).start()

    def submit(self, record: CallRecord, reservation: Reservation) -> None:
        if self._pid != os.getpid():
            self._start()
        with self._changed:
            self._pending.append((record, reservation))
            self._changed.notify_all()

    def drain(self, timeout: float = 10.0) -> None:
        """Settle everything queued so far, and wait for a batch being sent."""
        if self._pid != os.getpid():
            return
        while batch := self._take():
            self._send(batch)
        with self._changed:
            self._changed.wait_for(lambda: self._sending == 0, timeout=timeout)

    def _take(self) -> list[tuple[CallRecord, Reservation]]:
        with self._changed:
            batch, self._pending = self._pending[: self.MAX_BATCH], self._pending[self.MAX_BATCH :]
            if batch:
                self._sending += 1
            return batch

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending)
            time.sleep(self.LINGER_SECONDS)
            while batch := self._take():
                self._send(batch)

    def _send(self, batch: list[tuple[CallRecord, Reservation]]) -> None:
        try:
            self._meter.settle_many(batch)
        except Exception as exc:
            logger.error(
                "Settlement failed; the calls' reservations expire uncharged", calls=len(batch), error=str(exc)
            )
        finally:
            with self._changed:
                self._sending -= 1
                self._changed.notify_all()


# Every settle queue this process made (one per Redis meter), for settle_queue_drain.
_settle_queues: list[SettleQueue] = []
_settle_queues_lock = threading.Lock()


def settle_later(record: CallRecord, reservation: Reservation) -> None:
    """Queue a successful call's settlement on the Redis meter (see SettleQueue)."""
    meter = get_meter()
    assert isinstance(meter, RedisMeter)
    queue = meter.settle_queue
    if queue is None:
        with _settle_queues_lock:
            if meter.settle_queue is None:
                if not _settle_queues:
                    atexit.register(settle_queue_drain)
                meter.settle_queue = SettleQueue(meter)
                _settle_queues.append(meter.settle_queue)
            queue = meter.settle_queue
    queue.submit(record, reservation)


def settle_queue_drain() -> None:
    """Settle the calls this process has queued; a no-op if it queued none."""
    for queue in list(_settle_queues):
        queue.drain()

def month_spent_units(account_id: int) -> int:
    """Units charged (or held for calls in flight) this month (UTC), as the spending cap counts them."""
    month = month_start(timezone.now())
    if settings.M3O_METER == "redis":
        try:
            month_field, spent = redis_client().hmget(wallet_key(account_id), "month", "spent")
        except redis.RedisError:
            month_field = spent = None
        if month_field is not None and month_field.decode() == f"{month:%Y-%m}":
            return int(spent or 0)
    return month_charged_units(account_id=account_id, month=month)


def meter_invalidate(account_id: int) -> None:
    """Make the next call reload the account's snapshot from PostgreSQL, now and after commit."""
    if settings.M3O_METER != "redis":
        return
    _invalidate_now(account_id)
    transaction.on_commit(lambda: _invalidate_now(account_id))


def _invalidate_now(account_id: int) -> None:
    try:
        redis_client().eval(_INVALIDATE, 2, generation_key(account_id), snapshot_key(account_id))
    except redis.RedisError as exc:
        logger.error(
            "Meter snapshot not invalidated; it expires on its own",
            account_id=account_id,
            ttl_seconds=SNAPSHOT_TTL_SECONDS,
            error=str(exc),
        )


@receiver(post_save, sender=LedgerEntry, dispatch_uid="billing_meter_invalidate_on_ledger")
def _ledger_entry_saved(sender: type[LedgerEntry], instance: LedgerEntry, created: bool, **kwargs: Any) -> None:
    # Usage rows are the meter's own; every other entry moved money the snapshot does not know about.
    if created and instance.kind != LedgerEntry.Kind.USAGE:
        meter_invalidate(instance.wallet_id)


_meters: dict[str, Meter] = {}


def get_meter() -> Meter:
    # settings.M3O_METER is validated at start-up: "redis" needs REDIS_URL.
    name = settings.M3O_METER
    meter = _meters.get(name)
    if meter is None:
        meter = _meters[name] = RedisMeter(redis_client()) if name == "redis" else DatabaseMeter()
    return meter
