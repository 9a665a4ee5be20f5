"""Operations: health endpoints, production settings and the deploy files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

from tests.processes import ROOT


def test_healthz_answers_without_database_access() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_ready() -> None:
    body = Client().get("/readyz").json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "broker": True,
    }


@pytest.mark.django_db
def test_readyz_reports_stopped_redis(settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "M3O_", "SECRET"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "M3O_PRODUCTION": "1",
    "SECRET_KEY": "a-production-secret-key-with-enough-length-and-variety-0123456789-abcdefghij",
    "ALLOWED_HOSTS": "api.example.com",
    "M3O_SITE_URL": "https://api.example.com",
    "DATABASE_URL": "postgres://m3o:password@127.0.0.1:1/m3o",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "EMAIL_HOST": "smtp.example.com",
}


def test_production_without_secret_refuses_to_start() -> None:
    env = {name: value for name, value in PRODUCTION_ENV.items() if name != "SECRET_KEY"}
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "missing" in result.stderr


def test_check_deploy_passes_in_complete_production_environment() -> None:
    result = run_manage(PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.django_db
def test_createoperator_is_idempotent(monkeypatch) -> None:
    from django.core.management import call_command

    from accounts.models import User

    monkeypatch.setenv("M3O_OPERATOR_EMAIL", "Ops@Example.com")
    monkeypatch.setenv("M3O_OPERATOR_PASSWORD", "operator passphrase 42")
    call_command("createoperator")
    call_command("createoperator")

    user = User.objects.get()
    assert user.email == "ops@example.com"
    assert user.is_superuser
    assert user.check_password("operator passphrase 42")
    assert Client().post("/accounts/login/", {"login": "ops@example.com", "password": "operator passphrase 42"}).status_code == 302


@pytest.mark.django_db
def test_createoperator_rejects_missing_or_weak_settings(monkeypatch) -> None:
    from django.core.management import CommandError, call_command

    monkeypatch.delenv("M3O_OPERATOR_EMAIL", raising=False)
    with pytest.raises(CommandError, match="M3O_OPERATOR_EMAIL"):
        call_command("createoperator")
    monkeypatch.setenv("M3O_OPERATOR_EMAIL", "ops@example.com")
    monkeypatch.setenv("M3O_OPERATOR_PASSWORD", "short")
    with pytest.raises(CommandError, match="12 characters"):
        call_command("createoperator")


def metric_value(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_need_their_token(settings, db) -> None:
    settings.M3O_METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    settings.M3O_METRICS_TOKEN = "scrape-token-123"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "bearer scrape-token-123"}).status_code == 200


def test_metrics_count_a_call(owner, settings) -> None:
    settings.M3O_METRICS_TOKEN = "scrape-token-123"
    scrape = lambda: Client().get("/metrics", headers={"Authorization": "Bearer scrape-token-123"}).content.decode()  # noqa: E731
    before = scrape()

    response = owner.call()

    after = scrape()
    name = 'm3o_gateway_calls_total{endpoint="Call",service="helloworld",status="2xx"}'
    assert metric_value(after, name.split("{")[0]) - metric_value(before, name.split("{")[0]) == 1
    units = int(response["X-M3O-Cost"])
    assert metric_value(after, "m3o_units_charged_total") - metric_value(before, "m3o_units_charged_total") == units
    assert "m3o_gateway_call_duration_seconds_bucket" in after
    assert "m3o_celery_queue_length" in after
