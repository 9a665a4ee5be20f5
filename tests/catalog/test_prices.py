"""Price history: prices are added, never edited, and the gateway charges the one in effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalog.models import Endpoint, EndpointPrice
from catalog.selectors import endpoint_price_at
from catalog.services import endpoint_price_schedule
from tests.conftest import Persona

pytestmark = pytest.mark.django_db


def hello() -> Endpoint:
    return Endpoint.objects.get(service__slug="helloworld", name="Call")


def test_scheduled_price_applies_from_its_date(owner: Persona) -> None:
    start = timezone.now()
    endpoint_price_schedule(
        endpoint=hello(), price_units=2_500, effective_from=start + timedelta(days=3), created_by=owner.user
    )

    assert owner.call()["X-M3O-Cost"] == "1000"
    with time_machine.travel(start + timedelta(days=3, seconds=1)):
        assert owner.call()["X-M3O-Cost"] == "2500"


def test_price_at_returns_price_in_effect() -> None:
    endpoint = hello()
    now = timezone.now()
    endpoint_price_schedule(endpoint=endpoint, price_units=7, effective_from=now + timedelta(hours=1), created_by=None)

    assert endpoint_price_at(endpoint=endpoint, at=now) == 1_000
    assert endpoint_price_at(endpoint=endpoint, at=now + timedelta(hours=2)) == 7
    assert endpoint_price_at(endpoint=endpoint, at=datetime(1999, 1, 1, tzinfo=UTC)) == 0


def test_price_change_adds_row_and_keeps_history() -> None:
    endpoint = hello()
    endpoint_price_schedule(endpoint=endpoint, price_units=9, effective_from=None, created_by=None)

    prices = list(endpoint.prices.order_by("effective_from").values_list("price_units", flat=True))
    assert prices == [1_000, 9]


@pytest.mark.parametrize(
    ("price", "offset", "field"),
    [(-1, timedelta(0), "price_units"), (5, -timedelta(days=1), "effective_from")],
)
def test_invalid_price_change_is_rejected(price: int, offset: timedelta, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        endpoint_price_schedule(
            endpoint=hello(), price_units=price, effective_from=timezone.now() + offset, created_by=None
        )
    assert field in info.value.message_dict


def test_two_prices_at_same_instant_are_rejected() -> None:
    moment = timezone.now() + timedelta(days=1)
    endpoint_price_schedule(endpoint=hello(), price_units=1, effective_from=moment, created_by=None)
    with pytest.raises(ValidationError):
        endpoint_price_schedule(endpoint=hello(), price_units=2, effective_from=moment, created_by=None)


def test_negative_price_is_rejected_by_database() -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        EndpointPrice.objects.create(endpoint=hello(), price_units=-5, effective_from=timezone.now())
