"""Liveness and readiness endpoints for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

CHECK_TIMEOUT_SECONDS = 2


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Report that the process is running. It checks no dependency, so restarting the process is the right fix when it fails."""
    return JsonResponse({"status": "ok"})


def _check_database() -> tuple[bool, str]:
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return False, f"unreachable: {type(exc).__name__}"
    if pending:
        return False, f"{len(pending)} migrations not applied"
    return True, "ok"


def _check_redis() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return True, "not configured (embedded default)"
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
        )
        client.ping()
    except redis.RedisError as exc:
        return False, f"unreachable: {type(exc).__name__}"
    return True, "ok"


def _check_broker() -> tuple[bool, str]:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
            connect_timeout=CHECK_TIMEOUT_SECONDS,
        ) as broker:
            broker.ensure_connection(max_retries=1)
    except Exception as exc:  # kombu raises transport-specific errors
        return False, f"unreachable: {type(exc).__name__}"
    return True, "ok"


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Report whether this process can serve: database reachable and migrated, Redis and broker reachable."""
    checks: dict[str, Any] = {}
    ready = True
    for name, check in (("database", _check_database), ("redis", _check_redis), ("broker", _check_broker)):
        ok, detail = check()
        checks[name] = {"ok": ok, "detail": detail}
        ready = ready and ok
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)
