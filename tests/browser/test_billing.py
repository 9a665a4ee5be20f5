"""Billing in a real browser: a top-up through Stripe Elements (localstripe's Stripe.js), an invoice download, an alert."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from billing.models import BalanceAlert, LedgerEntry, Payment, SavedCard, Wallet
from billing.services.invoices import invoice_issue
from billing.services.thresholds import balance_alerts_check
from tests.billing.test_invoices import insert_usage
from tests.factories import UserFactory, personal_account
from tests.localstripe import TEST_CARD, localstripe_url, stripe_api  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")


def test_add_funds_with_test_card(page, live_server, stripe_api: str) -> None:
    user = UserFactory(email="payer@example.com")
    account = personal_account(user)
    sign_in(page, user.email)

    page.goto("/billing/")
    page.fill("#topup-amount", "25")
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill(TEST_CARD)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("30")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("10001")
    page.get_by_role("button", name="Add funds").click()

    page.wait_for_url("**/billing/payments/*/")
    assert page.locator("#receipt-status").inner_text() == "Succeeded"
    assert page.locator("#receipt-amount").inner_text() == "$25.000000 USD"
    assert "Visa ending in 4242" in page.locator("#receipt").inner_text()

    page.goto("/billing/")
    # US$1 signup credit plus the top-up.
    assert page.locator("#balance").inner_text() == "$26.000000"
    assert "ending in 4242" in page.locator("#saved-cards").inner_text()
    payment = Payment.objects.get(account=account)
    assert page.locator("#payments").get_by_role("link", name=payment.receipt_number).is_visible()
    assert LedgerEntry.objects.filter(wallet_id=account.pk, kind=LedgerEntry.Kind.TOPUP).count() == 1
    assert SavedCard.objects.filter(account=account).count() == 1

    # The saved card pays again without typing it.
    page.fill("#topup-amount", "10")
    page.get_by_role("button", name="Add funds").click()
    page.wait_for_url("**/billing/payments/*/")
    page.goto("/billing/")
    assert page.locator("#balance").inner_text() == "$36.000000"


def test_download_invoice_pdf(page, live_server, tmp_path) -> None:
    user = UserFactory(email="invoiced@example.com")
    account = personal_account(user)
    insert_usage(account, count=4, units=2_500, at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC), service="helloworld", endpoint="Call", prefix="b")
    invoice = invoice_issue(account_id=account.pk, month=dt.date(2026, 11, 1))
    sign_in(page, user.email)

    page.goto("/billing/")
    page.locator("#invoices").get_by_role("link", name=invoice.number).click()
    assert "helloworld/Call" in page.locator("#invoice-lines").inner_text()
    assert page.locator("#invoice-total").inner_text() == "$0.01"
    with page.expect_download() as download_info:
        page.locator("#invoice-pdf").click()
    download = download_info.value

    assert download.suggested_filename == f"{invoice.number}.pdf"
    saved = tmp_path / "invoice.pdf"
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")


def test_set_balance_alert(page, live_server) -> None:
    user = UserFactory(email="alerted@example.com")
    account = personal_account(user)
    sign_in(page, user.email)

    page.goto("/billing/")
    page.fill("#alert-threshold", "0.50")
    page.get_by_role("button", name="Add alert").click()

    page.wait_for_url("**/billing/")
    assert "Email when the balance falls below $0.500000" in page.locator("#alerts").inner_text()
    alert = BalanceAlert.objects.get(account=account)
    assert alert.threshold_units == 500_000
    # The signup credit of US$1 is above the threshold, so the alert waits for a crossing.
    assert alert.armed
    Wallet.objects.filter(pk=account.pk).update(balance_units=400_000)
    mail.outbox.clear()
    assert balance_alerts_check() == 1
    assert mail.outbox[0].to == [user.email]


def test_add_funds_through_stripe_checkout(page, live_server, stripe_api: str, settings) -> None:
    settings.M3O_STRIPE_CHECKOUT = True
    user = UserFactory(email="checkout@example.com")
    account = personal_account(user)
    sign_in(page, user.email)

    page.goto("/billing/")
    page.fill("#checkout-amount", "30")
    page.get_by_role("button", name="Pay with Stripe Checkout").click()

    # localstripe's hosted checkout page, standing in for checkout.stripe.com.
    page.wait_for_url(f"{stripe_api}/checkout/pay/*")
    assert page.get_by_role("heading").inner_text() == "Pay 30.00 USD"
    page.fill("#number", TEST_CARD)
    page.fill("#exp_month", "12")
    page.fill("#exp_year", "2030")
    page.fill("#cvc", "123")
    page.locator("#checkout-pay").click()

    page.wait_for_url("**/billing/payments/*/")
    assert page.locator("#receipt-status").inner_text() == "Succeeded"
    assert page.locator("#receipt-amount").inner_text() == "$30.000000 USD"
    assert "Visa ending in 4242" in page.locator("#receipt").inner_text()
    page.goto("/billing/")
    assert page.locator("#balance").inner_text() == "$31.000000"
    assert LedgerEntry.objects.filter(wallet_id=account.pk, kind=LedgerEntry.Kind.TOPUP).count() == 1
