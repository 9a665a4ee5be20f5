"""The playground in a real browser: run calls, see errors and charges, and check the curl snippet."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from billing.models import UsageEvent, Wallet
from tests.factories import UserFactory, make_key, personal_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "correct horse battery staple")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")


def run_request(page, body: str) -> None:
    page.fill("#request-body", body)
    page.get_by_role("button", name="Run").click()
    page.locator("#result:not([hidden])").wait_for()


def test_run_a_call_from_the_playground(page, live_server) -> None:
    user = UserFactory(email="player@example.com")
    account = personal_account(user)
    sign_in(page, "player@example.com")

    page.get_by_role("link", name="Playground").click()
    page.get_by_role("link", name="helloworld/Call").click()
    page.get_by_role("tab", name="Form").click()
    page.fill("#request-form input[name=name]", "Browser")
    assert '"name": "Browser"' in page.locator("#request-body").input_value()
    page.keyboard.press("Control+Enter")
    page.locator("#result:not([hidden])").wait_for()

    assert '"message": "Hello Browser"' in page.locator("#result-body").inner_text()
    assert page.locator("#result-status").inner_text().startswith("200")
    assert page.locator("#result-cost").inner_text() == "1000"
    balance = Wallet.objects.get(pk=account.pk).balance_units
    assert page.locator("#result-balance").inner_text() == str(balance)
    assert UsageEvent.objects.get().source == "playground"

    page.fill("#request-body", "{not json")
    page.get_by_role("button", name="Run").click()
    assert "not valid JSON" in page.locator("#request-error").inner_text()
    assert UsageEvent.objects.count() == 1

    page.reload()
    assert "Browser" in page.locator("#history").inner_text()


def test_field_errors_and_empty_balance_show_the_envelope(page, live_server) -> None:
    user = UserFactory(email="broke@example.com")
    sign_in(page, "broke@example.com")
    page.goto("/playground/helloworld/Call")

    run_request(page, '{"name": 5}')
    assert page.locator("#result-status").inner_text().startswith("400")
    envelope = json.loads(page.locator("#result-body").inner_text())
    assert envelope["fields"] == {"name": "5 is not of type 'string'"}

    Wallet.objects.filter(pk=personal_account(user).pk).update(balance_units=0)
    run_request(page, '{"name": "Alice"}')
    assert page.locator("#result-status").inner_text().startswith("402")
    assert json.loads(page.locator("#result-body").inner_text())["id"] == "v1.insufficient_credit"


def test_curl_snippet_gives_the_same_response(page, live_server) -> None:
    user = UserFactory(email="snippet@example.com")
    _, secret = make_key(user)
    sign_in(page, "snippet@example.com")
    page.goto("/playground/helloworld/Call")
    run_request(page, '{"name": "Alice"}')
    in_browser = json.loads(page.locator("#result-body").inner_text())

    snippet = page.locator("#snippet-curl").inner_text()
    result = subprocess.run(
        ["bash", "-c", snippet], env={**os.environ, "M3O_API_TOKEN": secret}, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == in_browser


def test_python_snippet_runs_with_the_platform_client(page, live_server) -> None:
    pytest.importorskip("m3o", reason="install the client: pip install -e clients/python")
    user = UserFactory(email="python-snippet@example.com")
    _, secret = make_key(user)
    sign_in(page, "python-snippet@example.com")
    page.goto("/playground/helloworld/Call")

    snippet = page.locator("#snippet-python").text_content()
    result = subprocess.run(
        [sys.executable, "-c", snippet], env={**os.environ, "M3O_API_TOKEN": secret}, capture_output=True, text=True,
        timeout=30,
    )

    assert "from m3o import Client" in snippet
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str({"message": "Hello Alice"})
