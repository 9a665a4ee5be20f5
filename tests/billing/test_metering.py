"""DatabaseMeter and the billing tasks: exactly-once charging and safe reruns."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db.models import Sum

from billing.metering import CallRecord, DatabaseMeter, InsufficientCredit, Reservation
from billing.models import Hold, LedgerEntry, UsageDaily, UsageEvent, Wallet
from billing.quotas import Pricing
from billing.services import BalanceTooLow, wallet_apply, wallet_reconcile
from billing.tasks import holds_release_expired, usage_rollup, wallets_reconcile
from tests.conftest import Persona

PRICE = 1_000


def priced(units: int) -> Pricing:
    return Pricing(endpoint_id=0, price_units=units, free_quota=0, allowance=0, past_allowance_units=0)


def held(units: int) -> Reservation:
    return Reservation(cost_units=units, free_scope="", month=dt.date.today().replace(day=1))


def record(persona: Persona, request_id: str, status_code: int = 200) -> CallRecord:
    return CallRecord(
        request_id=request_id,
        account_id=persona.account.pk,
        api_key_id=persona.key.pk,
        service="helloworld",
        endpoint="Call",
        status_code=status_code,
        latency_ms=3,
    )


def test_settling_twice_charges_once(owner: Persona) -> None:
    meter = DatabaseMeter()
    before = owner.balance
    meter.reserve(account_id=owner.account.pk, request_id="r1", pricing=priced(PRICE))

    first = meter.settle(record=record(owner, "r1"), reservation=held(PRICE))
    second = meter.settle(record=record(owner, "r1"), reservation=held(PRICE))

    assert first.charged_units == PRICE
    assert second.charged_units == 0
    assert owner.balance == before - PRICE
    assert LedgerEntry.objects.filter(kind="usage").count() == 1
    assert UsageEvent.objects.count() == 1
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_failed_call_releases_reservation(owner: Persona) -> None:
    meter = DatabaseMeter()
    before = owner.balance
    meter.reserve(account_id=owner.account.pk, request_id="r1", pricing=priced(PRICE))
    assert owner.balance == before - PRICE
    assert wallet_reconcile(account_id=owner.account.pk).ok

    settlement = meter.settle(record=record(owner, "r1", status_code=503), reservation=held(PRICE))

    assert settlement.charged_units == 0
    assert settlement.balance_units == before
    assert owner.balance == before
    assert not Hold.objects.exists()


def test_reserve_beyond_balance_raises_and_changes_nothing(owner: Persona) -> None:
    owner.set_balance(PRICE - 1)
    with pytest.raises(InsufficientCredit) as raised:
        DatabaseMeter().reserve(account_id=owner.account.pk, request_id="r1", pricing=priced(PRICE))
    assert raised.value.balance_units == PRICE - 1
    assert owner.balance == PRICE - 1
    assert not Hold.objects.exists()


def test_expired_hold_is_released_once(owner: Persona, settings) -> None:
    before = owner.balance
    DatabaseMeter().reserve(account_id=owner.account.pk, request_id="stale", pricing=priced(PRICE))

    with time_machine.travel(dt.timedelta(seconds=settings.M3O_HOLD_TTL_SECONDS + 1)):
        assert holds_release_expired() == 1
        assert holds_release_expired() == 0

    assert owner.balance == before
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_fresh_hold_is_kept(owner: Persona) -> None:
    DatabaseMeter().reserve(account_id=owner.account.pk, request_id="live", pricing=priced(PRICE))
    assert holds_release_expired() == 0
    assert Hold.objects.count() == 1


def test_call_settled_after_its_hold_expired_is_charged_from_balance(owner: Persona, settings) -> None:
    meter = DatabaseMeter()
    before = owner.balance
    meter.reserve(account_id=owner.account.pk, request_id="slow", pricing=priced(PRICE))
    with time_machine.travel(dt.timedelta(seconds=settings.M3O_HOLD_TTL_SECONDS + 1)):
        holds_release_expired()

    settlement = meter.settle(record=record(owner, "slow"), reservation=held(PRICE))

    assert settlement.charged_units == PRICE
    assert owner.balance == before - PRICE
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_wallet_apply_is_idempotent_per_reference(owner: Persona) -> None:
    before = owner.balance
    wallet_apply(account_id=owner.account.pk, kind="topup", amount_units=500, reference="topup:1")
    wallet_apply(account_id=owner.account.pk, kind="topup", amount_units=500, reference="topup:1")
    assert owner.balance == before + 500
    assert LedgerEntry.objects.filter(reference="topup:1").count() == 1


def test_wallet_apply_never_goes_below_zero(owner: Persona) -> None:
    before = owner.balance
    with pytest.raises(BalanceTooLow):
        wallet_apply(account_id=owner.account.pk, kind="adjustment", amount_units=-(before + 1), reference="adj:1")
    assert owner.balance == before
    assert not LedgerEntry.objects.filter(reference="adj:1").exists()


def test_reconcile_detects_a_balance_changed_outside_the_ledger(owner: Persona) -> None:
    assert wallets_reconcile() == 0
    Wallet.objects.filter(pk=owner.account.pk).update(balance_units=1)
    assert wallets_reconcile() == 1


def test_rollup_totals_are_exact_and_rerunnable(owner: Persona, outsider: Persona) -> None:
    for _ in range(3):
        owner.call()
    owner.call(body={})
    outsider.call()

    assert usage_rollup() >= 1
    usage_rollup()

    owner_totals = UsageDaily.objects.filter(account=owner.account).aggregate(
        calls=Sum("calls"), errors=Sum("errors"), cost=Sum("cost_units")
    )
    assert owner_totals == {"calls": 4, "errors": 1, "cost": 3 * PRICE}
    assert UsageDaily.objects.get(account=outsider.account).calls == 1
    assert UsageDaily.objects.count() == 3  # the owner's 2xx and 4xx rows, the outsider's 2xx row


def test_rollup_picks_up_events_of_yesterday(owner: Persona) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC), tick=False):
        owner.call()
    with time_machine.travel(dt.datetime(2026, 3, 2, 0, 5, tzinfo=dt.UTC), tick=False):
        owner.call()
        usage_rollup()

    days = dict(UsageDaily.objects.values_list("day", "calls"))
    assert days == {dt.date(2026, 3, 1): 1, dt.date(2026, 3, 2): 1}


def test_debit_beyond_balance_becomes_debt(owner: Persona) -> None:
    owner.set_balance(0)
    LedgerEntry.objects.all().delete()
    wallet_apply(account_id=owner.account.pk, kind="topup", amount_units=3_000, reference="topup:1")

    wallet_apply(account_id=owner.account.pk, kind="refund", amount_units=-5_000, reference="refund:1", allow_debt=True)

    wallet = Wallet.objects.get(pk=owner.account.pk)
    assert wallet.balance_units == 0
    assert wallet.debt_units == 2_000
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_account_in_debt_cannot_reserve(owner: Persona) -> None:
    Wallet.objects.filter(pk=owner.account.pk).update(balance_units=10 * PRICE, debt_units=1)
    meter = DatabaseMeter()

    for price in (PRICE, 0):
        with pytest.raises(InsufficientCredit) as raised:
            meter.reserve(account_id=owner.account.pk, request_id=f"r{price}", pricing=priced(price))
        assert raised.value.balance_units == 10 * PRICE - 1

    assert not Hold.objects.exists()
    assert owner.balance == 10 * PRICE


def test_credit_pays_debt_first(owner: Persona) -> None:
    owner.set_balance(0)
    LedgerEntry.objects.all().delete()
    wallet_apply(account_id=owner.account.pk, kind="refund", amount_units=-2_000, reference="refund:1", allow_debt=True)

    wallet_apply(account_id=owner.account.pk, kind="topup", amount_units=500, reference="topup:1")
    wallet = Wallet.objects.get(pk=owner.account.pk)
    assert (wallet.balance_units, wallet.debt_units) == (0, 1_500)

    wallet_apply(account_id=owner.account.pk, kind="topup", amount_units=10_000, reference="topup:2")
    wallet.refresh_from_db()
    assert (wallet.balance_units, wallet.debt_units) == (8_500, 0)
    assert wallet_reconcile(account_id=owner.account.pk).ok
