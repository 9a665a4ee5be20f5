"""The playground in a real browser: pick an endpoint, edit the request, run it, see the charge."""

from __future__ import annotations

import pytest

from billing.models import UsageEvent, Wallet
from tests.factories import UserFactory, personal_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_run_a_call_from_the_playground(page, live_server) -> None:
    user = UserFactory(email="player@example.com")
    account = personal_account(user)
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "player@example.com")
    page.fill("input[name=password]", "correct horse battery staple")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")

    page.get_by_role("link", name="Playground").click()
    page.get_by_role("link", name="helloworld/Call").click()
    page.get_by_role("tab", name="Form").click()
    page.fill("#request-form input[name=name]", "Browser")
    assert '"name": "Browser"' in page.locator("#request-body").input_value()
    page.get_by_role("button", name="Run").click()

    page.locator("#result:not([hidden])").wait_for()
    assert '"message": "Hello Browser"' in page.locator("#result-body").inner_text()
    assert page.locator("#result-status").inner_text().startswith("200")
    balance = Wallet.objects.get(pk=account.pk).balance_units
    assert page.locator("#result-balance").inner_text() == str(balance)
    assert UsageEvent.objects.get().source == "playground"

    page.fill("#request-body", "{not json")
    page.get_by_role("button", name="Run").click()
    assert "not valid JSON" in page.locator("#request-error").inner_text()
    assert UsageEvent.objects.count() == 1

    page.reload()
    assert "Browser" in page.locator("#history").inner_text()
