"""A team in a real browser: create it, invite a colleague, work as a developer, leave."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import Account, ApiKey, Membership
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the factories' password


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def test_team_invite_developer_key_billing_refused_leave(page) -> None:
    UserFactory(email="lead@example.com")
    UserFactory(email="dev@example.com")

    # The lead creates a team and invites a developer.
    sign_in(page, "lead@example.com")
    page.goto("/teams/")
    page.fill("input[name=name]", "Acme")
    page.get_by_role("button", name="Create team").click()
    page.wait_for_url("**/team/members/**")
    assert page.locator("#account-switch option:checked").inner_text().startswith("Acme")
    page.fill("#invite-form input[name=email]", "dev@example.com")
    page.select_option("#invite-form select[name=role]", "developer")
    page.get_by_role("button", name="Send invitation").click()
    assert "dev@example.com" in page.locator("#invitation-list").inner_text()
    link = re.search(r"http://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)
    sign_out(page)

    # The developer accepts and creates a key for the team.
    sign_in(page, "dev@example.com")
    page.goto(link)
    page.get_by_role("button", name="Join Acme").click()
    page.wait_for_url("**/dashboard/")
    page.goto("/keys/")
    assert "Keys belong to Acme" in page.locator("main").inner_text()
    page.fill("input[name=name]", "team ci")
    page.get_by_role("button", name="Create key").click()
    assert page.locator("#new-key-secret").inner_text().startswith("m3o_")
    team = Account.objects.get(name="Acme")
    assert ApiKey.objects.get(name="team ci").account == team

    # Billing is not for developers.
    response = page.goto("/billing/")
    assert response.status == 403
    assert "cannot open billing" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Billing").count() == 0

    # The developer leaves; the team's key stays with the team.
    page.goto("/team/members/")
    page.get_by_role("button", name="Leave team").click()
    page.wait_for_url("**/teams/")
    assert "Acme" not in page.locator("#account-list").inner_text()
    assert not Membership.objects.filter(account=team, user__email="dev@example.com").exists()
    assert ApiKey.objects.get(name="team ci").revoked_at is None
