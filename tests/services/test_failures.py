"""Gateway and page behaviour when Redis, PostgreSQL or the broker is unreachable."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from accounts.models import ApiKey
from m3o_web.celery import app as celery_app
from services import ratelimit
from tests.conftest import Persona

CLOSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_gateway_keeps_working_and_charging_without_redis(owner: Persona, settings, monkeypatch) -> None:
    assert owner.call().status_code == 200
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CLOSED_REDIS}}
    monkeypatch.setattr(ratelimit, "get_rate_limiter", lambda: ratelimit.RedisRateLimiter(CLOSED_REDIS))
    before = owner.balance

    response = owner.call()

    assert response.status_code == 200
    assert "RateLimit-Remaining" in response
    assert owner.balance == before - int(response["X-M3O-Cost"])


def test_pages_answer_503_without_redis(owner: Persona, settings) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CLOSED_REDIS}}
    response = Client(raise_request_exception=False).post("/accounts/login/", {"login": "owner@example.com", "password": "x"})
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_outage_gives_503_then_recovers(owner: Persona) -> None:
    assert owner.call().status_code == 200
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    browser = Client(raise_request_exception=False)
    browser.cookies = owner.client.cookies
    try:
        call = owner.call()
        page = browser.get("/dashboard/")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port

    assert call.status_code == 503
    assert call.json()["id"] == "v1.database_unavailable"
    assert call["Retry-After"] == "5"
    assert page.status_code == 503
    assert owner.call().status_code == 200


def test_key_is_created_when_broker_is_down(owner: Persona, django_capture_on_commit_callbacks) -> None:
    celery_app.conf.task_always_eager = False
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = CLOSED_REDIS
    celery_app.conf.broker_connection_timeout = 1
    celery_app._pool = None
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = owner.client.post("/keys/", {"name": "during outage", "all_services": "on"})
    finally:
        celery_app.conf.broker_url = original
        celery_app._pool = None

    assert response.status_code == 200
    assert ApiKey.objects.filter(name="during outage").exists()
