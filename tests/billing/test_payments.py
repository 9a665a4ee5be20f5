"""Card top-ups, saved cards and receipts through localstripe."""

from __future__ import annotations

import httpx
import pytest
from django.test import Client

from billing.models import LedgerEntry, Payment, SavedCard
from billing.services import wallet_reconcile
from tests.conftest import Persona
from tests.localstripe import (
    AUTHENTICATION_CARD,
    DECLINED_CHARGE_CARD,
    PUBLISHABLE_KEY,
    deliver,
    event_payload,
    intent_as_dict,
    new_card,
)

DOLLAR = 1_000_000


def topup(client: Client, amount: str, payment_method: str, *, save_card: bool = True) -> dict:
    data = {"amount": amount, "payment_method": payment_method}
    if save_card:
        data["save_card"] = "on"
    response = client.post("/billing/topup/", data, headers={"Accept": "application/json"})
    return {"status_code": response.status_code, **response.json()}


def test_topup_with_test_card_credits_once(owner: Persona, stripe_api: str) -> None:
    before = owner.balance

    result = topup(owner.client, "25", new_card(owner.client, stripe_api))

    assert result["status_code"] == 200
    assert result["status"] == "succeeded"
    payment = Payment.objects.get(account=owner.account)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.amount_cents == 2_500
    assert payment.card_last4 == "4242"
    assert owner.balance == before + 25 * DOLLAR
    assert LedgerEntry.objects.filter(wallet_id=owner.account.pk, kind=LedgerEntry.Kind.TOPUP).count() == 1

    # Stripe's webhook for the same payment arrives afterwards and changes nothing.
    intent = intent_as_dict(payment.stripe_payment_intent_id)
    assert deliver(owner.client, event_payload("payment_intent.succeeded", intent)) == 200
    assert owner.balance == before + 25 * DOLLAR
    assert LedgerEntry.objects.filter(wallet_id=owner.account.pk, kind=LedgerEntry.Kind.TOPUP).count() == 1
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_webhook_before_response_credits_once(owner: Persona, stripe_api: str) -> None:
    before = owner.balance
    topup(owner.client, "10", new_card(owner.client, stripe_api))
    payment = Payment.objects.get(account=owner.account)
    # Simulate the webhook having been processed first: the same PaymentIntent applied again.
    intent = intent_as_dict(payment.stripe_payment_intent_id)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PENDING)

    assert deliver(owner.client, event_payload("payment_intent.succeeded", intent)) == 200

    assert owner.balance == before + 10 * DOLLAR
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.TOPUP).count() == 1


@pytest.mark.parametrize("amount", ["9.99", "0", "-10", "abc", "10.001", "NaN", "1000000"])
def test_topup_amount_out_of_range_is_rejected(owner: Persona, stripe_api: str, amount: str) -> None:
    before = owner.balance
    result = topup(owner.client, amount, "pm_card_visa")
    assert result["status_code"] == 400
    assert "amount" in result["error"].lower()
    assert owner.balance == before
    assert not Payment.objects.exists()


def test_minimum_topup_is_configurable(owner: Persona, stripe_api: str, settings) -> None:
    settings.M3O_TOPUP_MIN_CENTS = 2_000
    result = topup(owner.client, "15", new_card(owner.client, stripe_api))
    assert result["status_code"] == 400
    assert "$20.00" in result["error"]


def test_saved_card_is_listed_and_pays_again(owner: Persona, stripe_api: str) -> None:
    before = owner.balance
    topup(owner.client, "10", new_card(owner.client, stripe_api))
    card = SavedCard.objects.get(account=owner.account)
    assert card.last4 == "4242"
    assert "ending in 4242" in owner.client.get("/billing/").content.decode()

    result = topup(owner.client, "12.50", card.stripe_payment_method_id)

    assert result["status"] == "succeeded"
    assert owner.balance == before + 22_500_000
    assert Payment.objects.filter(account=owner.account, status=Payment.Status.SUCCEEDED).count() == 2


def test_unsaved_card_is_not_kept(owner: Persona, stripe_api: str) -> None:
    topup(owner.client, "10", new_card(owner.client, stripe_api), save_card=False)
    assert Payment.objects.get(account=owner.account).status == Payment.Status.SUCCEEDED
    assert not SavedCard.objects.exists()


def test_removed_card_is_detached(owner: Persona, stripe_api: str) -> None:
    topup(owner.client, "10", new_card(owner.client, stripe_api))
    card = SavedCard.objects.get(account=owner.account)

    response = owner.client.post(f"/billing/cards/{card.pk}/remove/")

    assert response.status_code == 302
    assert not SavedCard.objects.exists()
    method = httpx.get(
        f"{stripe_api}/v1/payment_methods/{card.stripe_payment_method_id}",
        headers={"Authorization": "Bearer sk_test_localstripe"},
    ).json()
    assert method["customer"] is None


def test_outsider_cannot_remove_or_pay_with_owners_card(owner: Persona, outsider: Persona, stripe_api: str) -> None:
    topup(owner.client, "10", new_card(owner.client, stripe_api))
    card = SavedCard.objects.get(account=owner.account)
    outsider_before = outsider.balance
    new_card(outsider.client, stripe_api)  # gives the outsider a Stripe customer of their own

    assert outsider.client.post(f"/billing/cards/{card.pk}/remove/").status_code == 404
    result = topup(outsider.client, "10", card.stripe_payment_method_id)

    assert result["status_code"] == 400
    assert SavedCard.objects.filter(pk=card.pk).exists()
    assert outsider.balance == outsider_before


def test_declined_card_credits_nothing(owner: Persona, stripe_api: str) -> None:
    before = owner.balance

    result = topup(owner.client, "10", new_card(owner.client, stripe_api, DECLINED_CHARGE_CARD))

    assert result["status_code"] == 400
    assert "declined" in result["error"]
    assert Payment.objects.get(account=owner.account).status == Payment.Status.FAILED
    assert owner.balance == before


def test_card_needing_authentication_credits_after_it(owner: Persona, stripe_api: str) -> None:
    before = owner.balance
    result = topup(owner.client, "10", new_card(owner.client, stripe_api, AUTHENTICATION_CARD))
    assert result["status"] == "requires_action"
    assert owner.balance == before

    # What stripe.confirmCardPayment does when the cardholder completes authentication.
    intent_id = result["client_secret"].split("_secret_")[0]
    httpx.post(
        f"{stripe_api}/v1/payment_intents/{intent_id}/_authenticate?success=true",
        json={"key": PUBLISHABLE_KEY, "client_secret": result["client_secret"]},
    ).raise_for_status()
    synced = owner.client.post(result["sync_url"]).json()

    assert synced["status"] == "succeeded"
    assert owner.balance == before + 10 * DOLLAR


def test_receipt_is_visible_to_its_account_only(owner: Persona, outsider: Persona, stripe_api: str) -> None:
    topup(owner.client, "10", new_card(owner.client, stripe_api))
    payment = Payment.objects.get(account=owner.account)

    page = owner.client.get(f"/billing/payments/{payment.pk}/")

    assert page.status_code == 200
    assert payment.receipt_number in page.content.decode()
    assert "$10.000000" in page.content.decode()
    assert outsider.client.get(f"/billing/payments/{payment.pk}/").status_code == 404
    assert owner.client.get("/billing/payments/999999/").status_code == 404


def test_topup_needs_sign_in_and_post(owner: Persona, stripe_api: str) -> None:
    assert Client().post("/billing/topup/", {"amount": "10"}).status_code == 302
    assert owner.client.get("/billing/topup/").status_code == 405
    assert owner.client.get("/billing/cards/setup/").status_code == 405
