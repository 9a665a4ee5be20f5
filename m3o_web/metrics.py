"""Prometheus metrics, served at /metrics to holders of M3O_METRICS_TOKEN.

Counters live in each process. With several worker processes, set
PROMETHEUS_MULTIPROC_DIR to an empty folder shared by them so /metrics adds
up all processes (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import functools
import hmac
import os
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

ROLLUP_FINISHED_CACHE_KEY = "m3o:usage-rollup-finished-at"

CALLS = Counter(
    "m3o_gateway_calls_total", "Gateway calls by service, endpoint and status class.", ["service", "endpoint", "status"]
)
CALL_SECONDS = Histogram(
    "m3o_gateway_call_duration_seconds",
    "Gateway call latency by service.",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UNITS_CHARGED = Counter("m3o_units_charged_total", "Units charged for successful calls, by service.", ["service"])
RATE_LIMITED = Counter("m3o_rate_limit_rejections_total", "Calls rejected with 429.")
WEBHOOK_FAILURES = Counter("m3o_webhook_failures_total", "Incoming webhooks rejected or failed, by reason.", ["reason"])


def record_call(*, service: str, endpoint: str, status: int, seconds: float, units: int) -> None:
    calls, call_seconds, units_charged = _call_metrics(service or "unknown", endpoint or "unknown", status // 100)
    calls.inc()
    call_seconds.observe(seconds)
    if units:
        units_charged.inc(units)
    if status == 429:
        RATE_LIMITED.inc()


@functools.cache
def _call_metrics(service: str, endpoint: str, status_class: int) -> tuple[Counter, Histogram, Counter]:
    """Return the labelled series of one kind of call, cached per process because labels() is slow.

    The cache is bounded: gateway calls carry catalog names only, or "unknown".
    """
    return (
        CALLS.labels(service, endpoint, f"{status_class}xx"),
        CALL_SECONDS.labels(service),
        UNITS_CHARGED.labels(service),
    )


class _BacklogCollector(Collector):
    """Figures read when scraped: the Celery queue length, the age of the last usage roll-up and its backlog."""

    def describe(self):  # type: ignore[no-untyped-def]
        # Without describe(), registering the collector would call collect() at import, reading Redis and the database.
        yield GaugeMetricFamily("m3o_celery_queue_length", "")
        yield GaugeMetricFamily("m3o_usage_rollup_age_seconds", "")
        yield GaugeMetricFamily("m3o_usage_rollup_backlog_events", "")

    def collect(self):  # type: ignore[no-untyped-def]
        queue = GaugeMetricFamily("m3o_celery_queue_length", "Tasks waiting in the default Celery queue.")
        queue.add_metric([], _queue_length())
        yield queue
        age = GaugeMetricFamily(
            "m3o_usage_rollup_age_seconds", "Seconds since the usage roll-up last finished (-1: never)."
        )
        finished = _cache_get(ROLLUP_FINISHED_CACHE_KEY)
        age.add_metric([], time.time() - finished if finished else -1)
        yield age
        backlog = GaugeMetricFamily(
            "m3o_usage_rollup_backlog_events", "Usage events recorded but not yet rolled up (-1: database unreachable)."
        )
        backlog.add_metric([], _rollup_backlog())
        yield backlog


def _rollup_backlog() -> float:
    from django.db import DatabaseError

    from billing.usage_selectors import usage_rollup_backlog

    try:
        return float(usage_rollup_backlog())
    except DatabaseError:
        return -1


def _cache_get(key: str) -> float | None:
    try:
        return cache.get(key)
    except Exception:
        return None


def _queue_length() -> float:
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis"):
        return -1  # only known for a Redis broker
    import redis

    try:
        return float(redis.Redis.from_url(broker, socket_timeout=1).llen("celery"))
    except redis.RedisError:
        return -1


REGISTRY.register(_BacklogCollector())


def _registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.M3O_METRICS_TOKEN
    if not token:
        return JsonResponse({"detail": "Metrics are off. Set M3O_METRICS_TOKEN to turn them on."}, status=404)
    scheme, _, sent = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        sent = ""
    sent = sent.strip()
    if not hmac.compare_digest(sent.encode(), token.encode()):
        return JsonResponse({"detail": "Send the metrics token as 'Authorization: Bearer <token>'."}, status=401)
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
