"""Text users store is shown as text in the browser, never run as markup."""

from __future__ import annotations

import pytest

from accounts.teams import team_create
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the factories' password
XSS = '<img src=x onerror="window.__xss=1">'


def test_playground_shows_stored_markup_as_text(page) -> None:
    user = UserFactory(email="xss@example.com")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
    team_create(user=user, name=XSS)

    page.goto("/playground/notes/Create")
    page.fill("#request-body", '{"title": "t", "text": "' + XSS.replace('"', '\\"') + '"}')
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("#result-body:has-text('onerror')")
    page.goto("/dashboard/")

    assert page.evaluate("window.__xss") is None
    assert XSS in page.locator("#account-switch").inner_text()
