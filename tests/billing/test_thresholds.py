"""Auto top-up and balance alerts, against localstripe."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import stripe
from celery.exceptions import Retry
from django.core import mail
from django.utils import timezone

from billing.models import AutoTopup, BalanceAlert, BillingProfile, LedgerEntry, Payment, SavedCard
from billing.services import wallet_apply
from billing.services.thresholds import auto_topups_start_due, balance_alerts_check
from billing.tasks import auto_topup_run, balance_thresholds_check
from tests.conftest import Persona
from tests.localstripe import AUTHENTICATION_CARD, DECLINED_CHARGE_CARD, new_card

DOLLAR = 1_000_000


def save_card(persona: Persona, base_url: str, number: str | None = None) -> SavedCard:
    method = new_card(persona.client, base_url, number) if number else new_card(persona.client, base_url)
    response = persona.client.post(
        "/billing/topup/", {"amount": "10", "payment_method": method, "save_card": "on"}, headers={"Accept": "application/json"}
    )
    assert response.status_code in (200, 400), response.content
    return SavedCard.objects.get(account=persona.account, stripe_payment_method_id=method)


def enable_auto_topup(persona: Persona, **fields: str) -> int:
    form = {"enabled": "on", "threshold": "5", "amount": "20", "max_per_month": "2", "card": "", **fields}
    return persona.client.post("/billing/auto-topup/", form).status_code


def test_auto_topup_charges_saved_card_below_threshold(owner: Persona, stripe_api: str, django_capture_on_commit_callbacks) -> None:
    save_card(owner, stripe_api)
    assert enable_auto_topup(owner) == 302
    owner.set_balance(4 * DOLLAR)

    with django_capture_on_commit_callbacks(execute=True):
        assert balance_thresholds_check() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert balance_thresholds_check() == 0  # above the threshold now

    attempt = AutoTopup.objects.get()
    assert attempt.status == AutoTopup.Status.SUCCEEDED
    assert attempt.payment.status == Payment.Status.SUCCEEDED
    assert attempt.payment.amount_cents == 2_000
    assert owner.balance == 24 * DOLLAR


def test_auto_topup_stops_at_monthly_maximum(owner: Persona, stripe_api: str, django_capture_on_commit_callbacks) -> None:
    save_card(owner, stripe_api)
    enable_auto_topup(owner, max_per_month="2")

    for _ in range(4):
        owner.set_balance(0)
        with django_capture_on_commit_callbacks(execute=True):
            balance_thresholds_check()

    assert AutoTopup.objects.filter(status=AutoTopup.Status.SUCCEEDED).count() == 2
    assert owner.balance == 0


def test_declined_auto_topup_emails_owner_and_waits(owner: Persona, stripe_api: str, django_capture_on_commit_callbacks) -> None:
    card = save_card(owner, stripe_api, DECLINED_CHARGE_CARD)
    enable_auto_topup(owner, card=str(card.pk))
    owner.set_balance(0)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        balance_thresholds_check()
        balance_thresholds_check()

    attempt = AutoTopup.objects.get()
    assert attempt.status == AutoTopup.Status.FAILED
    assert "declined" in attempt.failure_message
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[M3O] Automatic top-up failed"
    assert mail.outbox[0].to == ["owner@example.com"]
    # After the retry delay a new attempt is made.
    later = timezone.now() + dt.timedelta(hours=7)
    assert len(auto_topups_start_due(now=later)) == 1


def test_auto_topup_needing_authentication_fails(owner: Persona, stripe_api: str, django_capture_on_commit_callbacks) -> None:
    card = save_card(owner, stripe_api, AUTHENTICATION_CARD)
    enable_auto_topup(owner, card=str(card.pk))
    owner.set_balance(0)

    with django_capture_on_commit_callbacks(execute=True):
        balance_thresholds_check()

    assert AutoTopup.objects.get().status == AutoTopup.Status.FAILED
    assert "authentication" in AutoTopup.objects.get().failure_message


def test_auto_topup_retries_stripe_outage_then_fails(owner: Persona, stripe_api: str, settings) -> None:
    save_card(owner, stripe_api)
    enable_auto_topup(owner)
    owner.set_balance(0)
    settings.M3O_AUTO_TOPUP_RETRY_BASE_SECONDS = 10
    attempt_id = auto_topups_start_due(now=timezone.now())[0]
    mail.outbox.clear()
    outage = stripe.APIConnectionError("connection refused")

    # Eager tasks do not run their retries, so each retry is run here by its number.
    with mock.patch("billing.tasks.auto_topup_charge", side_effect=outage):
        for retries in range(5):
            with pytest.raises(Retry) as raised:
                auto_topup_run.apply(args=[attempt_id], retries=retries, throw=True)
            assert raised.value.when == 10 * 2**retries
            assert AutoTopup.objects.get(pk=attempt_id).status == AutoTopup.Status.PENDING
        result = auto_topup_run.apply(args=[attempt_id], retries=5)

    assert result.result == AutoTopup.Status.FAILED
    assert AutoTopup.objects.get(pk=attempt_id).status == AutoTopup.Status.FAILED
    assert len(mail.outbox) == 1
    assert owner.balance == 0


def test_auto_topup_run_twice_charges_once(owner: Persona, stripe_api: str) -> None:
    save_card(owner, stripe_api)
    enable_auto_topup(owner)
    owner.set_balance(0)
    attempt_id = auto_topups_start_due(now=timezone.now())[0]

    auto_topup_run.apply(args=[attempt_id])
    auto_topup_run.apply(args=[attempt_id])

    assert Payment.objects.filter(auto_topup__pk=attempt_id).count() == 1
    assert owner.balance == 20 * DOLLAR


def test_dispute_suspends_auto_topup(owner: Persona, stripe_api: str) -> None:
    save_card(owner, stripe_api)
    enable_auto_topup(owner)
    BillingProfile.objects.filter(pk=owner.account.pk).update(auto_topup_suspended=True, auto_topup_suspended_reason="Disputed.")
    owner.set_balance(0)

    assert auto_topups_start_due(now=timezone.now()) == []
    assert "suspended" in owner.client.get("/billing/").content.decode()


def test_auto_topup_settings_are_validated(owner: Persona, outsider: Persona, stripe_api: str) -> None:
    assert enable_auto_topup(owner) == 302  # no saved card yet
    assert not BillingProfile.objects.filter(pk=owner.account.pk, auto_topup_enabled=True).exists()

    card = save_card(outsider, stripe_api)
    enable_auto_topup(owner, card=str(card.pk))
    enable_auto_topup(owner, amount="5")
    enable_auto_topup(owner, threshold="0")
    enable_auto_topup(owner, max_per_month="x")

    assert not BillingProfile.objects.filter(pk=owner.account.pk, auto_topup_enabled=True).exists()


def test_balance_alert_fires_once_per_crossing(owner: Persona) -> None:
    owner.set_balance(10 * DOLLAR)
    assert owner.client.post("/billing/alerts/", {"threshold": "5"}).status_code == 302
    mail.outbox.clear()

    owner.set_balance(4 * DOLLAR)
    assert balance_alerts_check() == 1
    assert balance_alerts_check() == 0
    owner.set_balance(6 * DOLLAR)
    assert balance_alerts_check() == 0
    owner.set_balance(3 * DOLLAR)
    assert balance_alerts_check() == 1

    assert len(mail.outbox) == 2
    assert mail.outbox[0].subject == "[M3O] Balance below $5.000000"
    assert "$4.000000" in mail.outbox[0].body


def test_alert_set_below_balance_waits_for_crossing(owner: Persona) -> None:
    owner.set_balance(1 * DOLLAR)
    owner.client.post("/billing/alerts/", {"threshold": "5"})

    assert not BalanceAlert.objects.get().armed
    assert balance_alerts_check() == 0


def test_alert_belongs_to_account(owner: Persona, outsider: Persona) -> None:
    owner.client.post("/billing/alerts/", {"threshold": "5"})
    alert = BalanceAlert.objects.get()

    assert outsider.client.post(f"/billing/alerts/{alert.pk}/remove/").status_code == 404
    assert owner.client.post("/billing/alerts/", {"threshold": "5"}).status_code == 302
    assert owner.client.post("/billing/alerts/", {"threshold": "0"}).status_code == 302
    assert BalanceAlert.objects.count() == 1
    assert owner.client.post(f"/billing/alerts/{alert.pk}/remove/").status_code == 302
    assert not BalanceAlert.objects.exists()



def topup_credit(persona: Persona, dollars: int, reference: str) -> None:
    wallet_apply(account_id=persona.account.pk, kind=LedgerEntry.Kind.TOPUP, amount_units=dollars * DOLLAR, reference=reference)


def test_percent_alert_fires_once_per_crossing(owner: Persona) -> None:
    topup_credit(owner, 20, "topup:test-1")  # balance $21: signup credit and the top-up
    response = owner.client.post("/billing/alerts/", {"threshold": "25", "unit": "percent"}, follow=True)
    assert b"falls below 25% of the last top-up" in response.content
    alert = BalanceAlert.objects.get()
    assert (alert.percent_of_last_topup, alert.threshold_units, alert.armed) == (25, None, True)
    mail.outbox.clear()

    owner.set_balance(5 * DOLLAR)  # 25% of $20 is $5: not below yet
    assert balance_alerts_check() == 0
    owner.set_balance(5 * DOLLAR - 1)
    assert balance_alerts_check() == 1
    assert balance_alerts_check() == 0
    assert mail.outbox[0].subject == "[M3O] Balance below 25% of the last top-up"
    assert "25% of the last top-up ($5.000000)" in mail.outbox[0].body

    # A larger top-up raises the threshold with it: $100 makes it $25.
    topup_credit(owner, 100, "topup:test-2")
    assert balance_alerts_check() == 0
    assert BalanceAlert.objects.get().armed
    owner.set_balance(24 * DOLLAR)
    assert balance_alerts_check() == 1
    assert len(mail.outbox) == 2


def test_percent_alert_waits_for_first_topup(owner: Persona) -> None:
    owner.client.post("/billing/alerts/", {"threshold": "50", "unit": "percent"})
    owner.set_balance(0)

    assert balance_alerts_check() == 0
    assert BalanceAlert.objects.get().armed


@pytest.mark.parametrize("value", ["0", "100", "12.5", "abc", "", "-5"])
def test_percent_alert_is_validated(owner: Persona, value: str) -> None:
    response = owner.client.post("/billing/alerts/", {"threshold": value, "unit": "percent"}, follow=True)

    assert response.status_code == 200
    assert b"percentage" in response.content
    assert not BalanceAlert.objects.exists()


def test_amount_and_percent_alerts_coexist(owner: Persona) -> None:
    owner.client.post("/billing/alerts/", {"threshold": "5"})
    owner.client.post("/billing/alerts/", {"threshold": "5", "unit": "percent"})
    duplicate = owner.client.post("/billing/alerts/", {"threshold": "5", "unit": "percent"}, follow=True)

    assert b"There is already an alert at 5% of the last top-up" in duplicate.content
    assert BalanceAlert.objects.count() == 2
