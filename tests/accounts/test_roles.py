"""The role matrix: each role may use exactly the dashboard pages and actions its permissions give.

Every view that needs a membership is listed in accounts.permissions.VIEW_PERMISSIONS;
for each role and each of those views, the request is allowed or refused with
403 as the table says, and nothing of the team is visible from another account.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Account, ApiKey, Invitation, Membership, User
from accounts.permissions import ROLE_PERMISSIONS, VIEW_PERMISSIONS
from accounts.services import api_key_create
from accounts.teams import team_create
from billing.models import Wallet
from tests.conftest import Persona
from tests.factories import UserFactory

Role = Membership.Role


@dataclass
class Team:
    account: Account
    key: ApiKey
    target: Membership  # another member, for the member actions
    invitation: Invitation


@pytest.fixture
def team(owner: Persona) -> Team:
    account = team_create(user=owner.user, name="Acme")
    target_user = UserFactory(email="target@example.com")
    target = Membership.objects.create(account=account, user=target_user, role=Role.DEVELOPER)
    key, _ = api_key_create(account=account, name="ci", scopes=[ApiKey.ALL_SERVICES], created_by=owner.user)
    invitation = Invitation.objects.create(
        account=account, email="new@example.com", token_hash="0" * 64, expires_at="2100-01-01T00:00:00Z"
    )
    return Team(account=account, key=key, target=target, invitation=invitation)


def url_for(name: str, team: Team) -> str:
    kwargs: dict[str, object] = {}
    if name in {"key_revoke", "key_rotate"}:
        kwargs = {"key_id": team.key.pk}
    elif name in {"member_role", "member_remove", "team_transfer"}:
        kwargs = {"member_id": team.target.pk}
    elif name == "invitation_revoke":
        kwargs = {"invitation_id": team.invitation.pk}
    elif name in {"playground_run", "playground_stream_ticket", "playground_save_example"}:
        kwargs = {"service": "helloworld", "endpoint": "Call"}
    elif name == "billing_card_remove":
        kwargs = {"card_id": 999_999}
    elif name in {"billing_receipt", "billing_payment_sync"}:
        kwargs = {"payment_id": 999_999}
    elif name == "billing_alert_remove":
        kwargs = {"alert_id": 999_999}
    elif name in {"billing_invoice", "billing_invoice_pdf"}:
        kwargs = {"invoice_id": 999_999}
    return f"{reverse(name, kwargs=kwargs)}?account={team.account.pk}"


def request(client: Client, url: str):
    """GET the page, or POST where the view takes only POST (with a body no form accepts as a change)."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, data="{}", content_type="application/json")
    return response


def refused_for_role(response) -> bool:
    content = response.content
    return response.status_code == 403 and (b"which cannot" in content or b'"v1.role"' in content)


def member_client(team: Team, role: str) -> tuple[Client, User]:
    user = UserFactory()
    Membership.objects.create(account=team.account, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client, user


def membership_view_names() -> set[str]:
    """Return the URL names of every view wrapped by with_membership."""
    names: set[str] = set()

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and getattr(pattern.callback, "m3o_membership_view", False):
                names.add(pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_membership_view_declares_its_permission() -> None:
    names = membership_view_names()

    assert names - set(VIEW_PERMISSIONS) == set()
    assert set(VIEW_PERMISSIONS) - names == set()


def responses_for_every_view(client: Client, team: Team) -> dict[str, object]:
    """Request every membership view once; each request is rolled back, so one cannot affect the next."""
    responses = {}
    for name in sorted(VIEW_PERMISSIONS):
        with transaction.atomic():
            responses[name] = request(client, url_for(name, team))
            transaction.set_rollback(True)
    return responses


@pytest.mark.parametrize("role", Role.values)
def test_role_matrix(team: Team, role: str) -> None:
    client, _ = member_client(team, role)

    responses = responses_for_every_view(client, team)

    wrong = [
        (name, response.status_code)
        for name, response in responses.items()
        if refused_for_role(response) is (VIEW_PERMISSIONS[name] in ROLE_PERMISSIONS[role])
    ]
    assert wrong == []


def test_another_account_sees_nothing(team: Team, outsider: Persona) -> None:
    responses = responses_for_every_view(outsider.client, team)

    wrong = [
        (name, response.status_code)
        for name, response in responses.items()
        if response.status_code != 404 or b"Acme" in response.content
    ]
    assert wrong == []


def test_anonymous_is_sent_to_sign_in(team: Team) -> None:
    responses = responses_for_every_view(Client(), team)

    wrong = [
        (name, response.status_code)
        for name, response in responses.items()
        if response.status_code != 302 or "/accounts/login/" not in response["Location"]
    ]
    assert wrong == []


def test_team_key_made_by_a_developer_charges_the_team(team: Team) -> None:
    client, developer = member_client(team, Role.DEVELOPER)
    Wallet.objects.filter(pk=team.account.pk).update(balance_units=10_000)
    _, secret = api_key_create(account=team.account, name="dev", scopes=[ApiKey.ALL_SERVICES], created_by=developer)

    response = client.post(
        "/v1/helloworld/Call", data={"name": "A"}, content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert response.status_code == 200
    assert Wallet.objects.get(pk=team.account.pk).balance_units == 10_000 - int(response["X-M3O-Cost"])


def test_billing_member_cannot_create_keys(team: Team) -> None:
    client, _ = member_client(team, Role.BILLING)

    response = client.post(f"/keys/?account={team.account.pk}", {"name": "sneaky", "all_services": "on"})

    assert response.status_code == 403
    assert not ApiKey.objects.filter(name="sneaky").exists()
