"""The usage roll-up: raw usage events added to the hourly and daily totals exactly once, and old events pruned.

The roll-up reads events in order of id, from the cursor (UsageRollupCursor)
up to the highest id whose inserting transaction has certainly committed. Each
batch is one transaction that adds a range of ids to both totals with
``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE`` and moves the
cursor past the range. So a batch counts fully or not at all: killing the task
midway loses no event and rerunning it counts none twice. Events that arrive
late (a call from hours ago, flushed now) get a new, higher id and are added to
their own hour and day when the cursor reaches them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from billing.models import UsageDaily, UsageEvent, UsageHourly, UsageRollupCursor

logger = structlog.get_logger(__name__)

CURSOR_NAME = "usage"

EVENTS = UsageEvent._meta.db_table
HOURLY = UsageHourly._meta.db_table
DAILY = UsageDaily._meta.db_table

# Start of the UTC hour and the UTC day of an event, per database. SQLite keeps
# datetimes as UTC text ("YYYY-MM-DD HH:MM:SS.ffffff"); "%%" is a literal "%"
# in a query that has parameters.
_HOUR_SQL = {
    "postgresql": "date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    "sqlite": "strftime('%%Y-%%m-%%d %%H:00:00', created_at)",
}
_DAY_SQL = {
    "postgresql": "(created_at AT TIME ZONE 'UTC')::date",
    "sqlite": "substr(created_at, 1, 10)",
}
_DIMENSIONS = "account_id, key_id, service, endpoint, status_class"
_MEASURES = "calls, errors, cost_units, latency_ms_total"


@dataclass(frozen=True, slots=True)
class RollupResult:
    batches: int
    last_event_id: int
    # False when the run stopped at max_batches or could not start: events may be left above the cursor.
    complete: bool


def _grouped_events_sql(period_sql: str) -> str:
    """One row per period and dimension for the events with ``%s < id <= %s``."""
    return f"""
        SELECT account_id, {period_sql} AS period, COALESCE(api_key_id, 0) AS key_id, service, endpoint,
               status_code / 100 AS status_class, COUNT(*) AS calls, SUM(cost_units) AS cost_units,
               SUM(latency_ms) AS latency_ms_total
        FROM {EVENTS}
        WHERE id > %s AND id <= %s
        GROUP BY account_id, {period_sql}, COALESCE(api_key_id, 0), service, endpoint, status_code / 100
    """


def _upsert_sql(table: str, period_column: str, source: str) -> str:
    """Add the rows of ``source`` (a SELECT over grouped events) to ``table``."""
    additions = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in _MEASURES.split(", "))
    # "WHERE true" settles SQLite's parsing ambiguity between ON CONFLICT and a join's ON.
    return f"""
        INSERT INTO {table} ({_DIMENSIONS}, {period_column}, {_MEASURES})
        SELECT account_id, key_id, service, endpoint, status_class, period,
               calls, CASE WHEN status_class = 2 THEN 0 ELSE calls END, cost_units, latency_ms_total
        FROM ({source}) AS grouped
        WHERE true
        ON CONFLICT ({_DIMENSIONS.replace('account_id', 'account_id, ' + period_column)}) DO UPDATE SET {additions}
    """


def _add_events_to_totals(after_id: int, up_to_id: int) -> None:
    vendor = connection.vendor
    hour_sql, day_sql = _HOUR_SQL[vendor], _DAY_SQL[vendor]
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # Room to hash a batch's groups in memory; JIT compiling costs more than it saves here.
            cursor.execute("SET LOCAL work_mem = '128MB'")
            cursor.execute("SET LOCAL jit = off")
            # One scan of the events feeds both tables: the daily rows are summed from the hourly ones.
            hourly = _grouped_events_sql(hour_sql)
            daily = f"""
                SELECT account_id, (period AT TIME ZONE 'UTC')::date AS period, key_id, service, endpoint,
                       status_class, SUM(calls) AS calls, SUM(cost_units) AS cost_units,
                       SUM(latency_ms_total) AS latency_ms_total
                FROM batch GROUP BY 1, 2, 3, 4, 5, 6
            """
            cursor.execute(
                f"""
                WITH batch AS MATERIALIZED ({hourly}),
                hourly AS ({_upsert_sql(HOURLY, "hour", "SELECT * FROM batch")})
                {_upsert_sql(DAILY, "day", daily)}
                """,
                [after_id, up_to_id],
            )
        else:
            cursor.execute(_upsert_sql(HOURLY, "hour", _grouped_events_sql(hour_sql)), [after_id, up_to_id])
            cursor.execute(_upsert_sql(DAILY, "day", _grouped_events_sql(day_sql)), [after_id, up_to_id])


def committed_event_id_bound() -> int:
    """Return an event id such that every event with a lower or equal id is committed, and none will appear later.

    Event ids come from a sequence in the order transactions start inserting,
    not the order they commit, so a high id can be visible while a lower one is
    still in flight. On PostgreSQL a SHARE lock on the events table waits for
    every transaction that is inserting events to finish (and holds new inserts
    off for that instant); the highest id then visible is safe. SQLite has one
    writer at a time, so its highest committed id is safe as is.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL lock_timeout = '10s'")
            cursor.execute(f"LOCK TABLE {EVENTS} IN SHARE MODE")
        cursor.execute(f"SELECT MAX(id) FROM {EVENTS}")
        return cursor.fetchone()[0] or 0


def _cursor_lock() -> UsageRollupCursor:
    UsageRollupCursor.objects.get_or_create(name=CURSOR_NAME)
    return UsageRollupCursor.objects.select_for_update().get(name=CURSOR_NAME)


def usage_rollup(*, batch_events: int | None = None, max_batches: int | None = None) -> RollupResult:
    """Add every committed usage event above the cursor to the hourly and daily totals.

    Works in batches of ``batch_events`` ids (M3O_ROLLUP_BATCH_EVENTS), each
    its own transaction that also moves the cursor; ``max_batches`` stops
    early (the rest waits for the next run). Safe to run twice, concurrently
    (a second run waits on the cursor row, then continues after the first),
    and to kill at any point.
    """
    batch_events = batch_events or settings.M3O_ROLLUP_BATCH_EVENTS
    try:
        bound = committed_event_id_bound()
    except DatabaseError:
        # A long insert transaction held the lock past lock_timeout: the next run catches up.
        logger.warning("Usage roll-up skipped: the events table stayed busy")
        return RollupResult(batches=0, last_event_id=usage_rollup_cursor(), complete=False)

    batches = 0
    while True:
        with transaction.atomic():
            cursor = _cursor_lock()
            after_id = cursor.last_event_id
            if after_id >= bound or (max_batches is not None and batches >= max_batches):
                break
            # Start at the next existing id, so that gaps in the ids (rolled back inserts, pruned rows) cost nothing.
            first_id = UsageEvent.objects.filter(id__gt=after_id).order_by("id").values_list("id", flat=True).first()
            if first_id is None or first_id > bound:
                break
            up_to_id = min(first_id - 1 + batch_events, bound)
            _add_events_to_totals(after_id, up_to_id)
            cursor.last_event_id = up_to_id
            cursor.updated_at = timezone.now()
            cursor.save(update_fields=["last_event_id", "updated_at"])
        batches += 1
    complete = max_batches is None or batches < max_batches
    logger.info("Usage rolled up", batches=batches, last_event_id=after_id, complete=complete)
    return RollupResult(batches=batches, last_event_id=after_id, complete=complete)


def usage_rollup_cursor() -> int:
    return UsageRollupCursor.objects.filter(name=CURSOR_NAME).values_list("last_event_id", flat=True).first() or 0


def usage_events_prune(*, now: dt.datetime, chunk: int = 50_000) -> int:
    """Delete raw usage events older than M3O_USAGE_RETENTION_DAYS that the roll-up has counted; return how many.

    Events above the cursor are kept whatever their age, so pruning never
    takes an event out of the totals. Deletes in chunks to keep transactions short.
    """
    cutoff = now - dt.timedelta(days=settings.M3O_USAGE_RETENTION_DAYS)
    rolled_up_to = usage_rollup_cursor()
    deleted = 0
    while True:
        ids = list(
            UsageEvent.objects.filter(created_at__lt=cutoff, id__lte=rolled_up_to)
            .order_by("created_at")
            .values_list("id", flat=True)[:chunk]
        )
        if not ids:
            break
        deleted += UsageEvent.objects.filter(id__in=ids).delete()[0]
    logger.info("Usage events pruned", deleted=deleted, cutoff=cutoff.isoformat())
    return deleted
