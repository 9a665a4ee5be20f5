"""The gateway's in-process caches: catalog and plan changes apply to the very next call, on both meters."""

from __future__ import annotations

from billing.models import Plan, Subscription
from catalog.models import Service
from catalog.services import service_status_change
from tests.conftest import Persona
from tests.factories import set_price


def test_price_change_applies_to_next_call(owner: Persona, meter: str) -> None:
    assert owner.call()["X-M3O-Cost"] == "1000"
    set_price("helloworld", "Call", 1_500)
    assert owner.call()["X-M3O-Cost"] == "1500"


def test_unpublished_service_is_404_on_next_call(owner: Persona, meter: str) -> None:
    assert owner.call().status_code == 200
    service_status_change(service=Service.objects.get(slug="helloworld"), status=Service.Status.DRAFT, changed_by=None)
    assert owner.call().status_code == 404


def test_plan_sets_account_rate_limit(owner: Persona, meter: str, settings) -> None:
    settings.M3O_RATE_LIMIT_WINDOW_SECONDS = 60
    Plan.objects.create(name="Tiny", slug="tiny", rate_limit_per_minute=2, is_default=True)

    statuses = [owner.call().status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_plan_change_applies_at_once(owner: Persona, meter: str, settings) -> None:
    settings.M3O_RATE_LIMIT_WINDOW_SECONDS = 60
    tiny = Plan.objects.create(name="Tiny", slug="tiny", rate_limit_per_minute=1, is_default=True)
    big = Plan.objects.create(name="Big", slug="big", rate_limit_per_minute=100)
    assert [owner.call().status_code for _ in range(2)] == [200, 429]

    Subscription.objects.create(account=owner.account, plan=big)

    assert owner.call().status_code == 200
    assert tiny.pk != big.pk


def test_plan_without_rate_limit_keeps_platform_default(owner: Persona, meter: str, settings) -> None:
    settings.M3O_RATE_LIMIT_PER_ACCOUNT = 2
    Plan.objects.create(name="Open", slug="open", rate_limit_per_minute=None, is_default=True)
    assert [owner.call().status_code for _ in range(3)] == [200, 200, 429]


def test_revoked_key_is_refused_on_next_call(owner: Persona, meter: str) -> None:
    from accounts.services import api_key_revoke

    assert owner.call().status_code == 200
    api_key_revoke(key=owner.key, actor=owner.user)
    assert owner.call().status_code == 401


def test_published_service_is_found_on_next_call(owner: Persona, meter: str) -> None:
    helloworld = Service.objects.get(slug="helloworld")
    service_status_change(service=helloworld, status=Service.Status.DRAFT, changed_by=None)
    assert owner.call().status_code == 404

    service_status_change(service=helloworld, status=Service.Status.PUBLISHED, changed_by=None)

    assert owner.call().status_code == 200
