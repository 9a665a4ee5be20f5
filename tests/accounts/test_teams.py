"""Team accounts: creating teams, invitations, roles, leaving, transferring and deleting."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import Account, ApiKey, AuditEvent, Invitation, Membership, User
from accounts.services import api_key_create
from accounts.teams import (
    TeamError,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    member_leave,
    member_remove,
    member_role_change,
    ownership_transfer,
    team_create,
    team_delete,
)
from billing.models import Wallet
from tests.accounts.test_settings import signed_in_client
from tests.conftest import Persona
from tests.factories import UserFactory

Role = Membership.Role


def add_member(team: Account, role: str, email: str | None = None) -> User:
    user = UserFactory(**({"email": email} if email else {}))
    Membership.objects.create(account=team, user=user, role=role)
    return user


def token_from_mail() -> str:
    match = re.search(r"/invitations/([A-Za-z0-9_-]+)/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Return invitation_create that also sends the email, which otherwise waits for the test's transaction to commit."""

    def create(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return invitation_create(**kwargs)

    return create


@pytest.fixture
def team(owner: Persona) -> Account:
    return team_create(user=owner.user, name="Acme")


def test_team_has_its_own_wallet_and_owner(owner: Persona, team: Account) -> None:
    assert team.kind == Account.Kind.TEAM
    assert Membership.objects.get(account=team).role == Role.OWNER
    assert Wallet.objects.filter(pk=team.pk).exists()
    assert AuditEvent.objects.filter(account=team, action="team.created", actor=owner.user).exists()


@pytest.mark.parametrize(("name", "message"), [("   ", "name"), ("x" * 151, "too long")])
def test_team_name_is_checked(owner: Persona, name: str, message: str) -> None:
    with pytest.raises(TeamError, match=message):
        team_create(user=owner.user, name=name)


def test_unverified_user_cannot_create_team(db: None) -> None:
    with pytest.raises(TeamError, match="Verify"):
        team_create(user=UserFactory(verified=False), name="Acme")


def test_invitation_is_emailed_and_accepted_once(owner: Persona, team: Account, settings, invite) -> None:
    settings.SITE_URL = "https://m3o.example"
    invite(account=team, actor=owner.user, email="Dev@Example.com", role=Role.DEVELOPER)
    token = token_from_mail()
    assert mail.outbox[-1].to == ["dev@example.com"]
    assert f"https://m3o.example/invitations/{token}/" in mail.outbox[-1].body
    assert Invitation.objects.get().token_hash != token

    developer = UserFactory(email="dev@example.com")
    membership = invitation_accept(token=token, user=developer)

    assert (membership.account, membership.role) == (team, Role.DEVELOPER)
    with pytest.raises(TeamError, match="already used"):
        invitation_accept(token=token, user=developer)
    assert AuditEvent.objects.filter(account=team, action="member.joined", actor=developer).exists()


def test_invitation_needs_the_invited_address(owner: Persona, team: Account, invite) -> None:
    invite(account=team, actor=owner.user, email="dev@example.com", role=Role.DEVELOPER)
    token = token_from_mail()

    with pytest.raises(TeamError, match="signed in as"):
        invitation_accept(token=token, user=UserFactory(email="someone@example.com"))
    assert Membership.objects.filter(account=team).count() == 1


def test_invitation_expires(owner: Persona, team: Account, invite) -> None:
    invite(account=team, actor=owner.user, email="dev@example.com", role=Role.DEVELOPER)
    token = token_from_mail()
    developer = UserFactory(email="dev@example.com")

    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        with pytest.raises(TeamError, match="expired"):
            invitation_accept(token=token, user=developer)


def test_revoked_and_replaced_invitations_stop_working(owner: Persona, team: Account, invite) -> None:
    first, _ = invite(account=team, actor=owner.user, email="dev@example.com", role=Role.DEVELOPER)
    first_token = token_from_mail()
    invite(account=team, actor=owner.user, email="dev@example.com", role=Role.BILLING)
    second_token = token_from_mail()
    developer = UserFactory(email="dev@example.com")

    with pytest.raises(TeamError, match="revoked"):
        invitation_accept(token=first_token, user=developer)
    second = Invitation.objects.get(accepted_at__isnull=True, revoked_at__isnull=True)
    assert invitation_revoke(invitation=second, actor=owner.user) is True
    with pytest.raises(TeamError, match="revoked"):
        invitation_accept(token=second_token, user=developer)
    with pytest.raises(TeamError, match="not valid"):
        invitation_accept(token="made-up", user=developer)


def test_members_cannot_be_invited_again(owner: Persona, team: Account, invite) -> None:
    with pytest.raises(TeamError, match="already a member"):
        invitation_create(account=team, actor=owner.user, email=owner.user.email.upper(), role=Role.ADMIN)


def test_personal_accounts_take_no_invitations(owner: Persona, invite) -> None:
    with pytest.raises(TeamError, match="personal"):
        invitation_create(account=owner.account, actor=owner.user, email="dev@example.com", role=Role.ADMIN)


def test_last_owner_cannot_leave_be_removed_or_demoted(owner: Persona, team: Account) -> None:
    admin = add_member(team, Role.ADMIN)
    mine = Membership.objects.get(account=team, user=owner.user)

    with pytest.raises(TeamError, match="only owner"):
        member_leave(account=team, user=owner.user)
    with pytest.raises(TeamError, match="Only an owner"):
        member_remove(account=team, actor=admin, member=mine)
    with pytest.raises(TeamError, match="needs an owner"):
        member_role_change(account=team, actor=owner.user, member=mine, role=Role.ADMIN)
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER


def test_admin_cannot_make_owners(owner: Persona, team: Account) -> None:
    admin = add_member(team, Role.ADMIN)
    developer = add_member(team, Role.DEVELOPER)
    membership = Membership.objects.get(account=team, user=developer)

    with pytest.raises(TeamError, match="Only an owner"):
        member_role_change(account=team, actor=admin, member=membership, role=Role.OWNER)
    member_role_change(account=team, actor=admin, member=membership, role=Role.BILLING)
    assert Membership.objects.get(pk=membership.pk).role == Role.BILLING
    assert AuditEvent.objects.filter(account=team, action="member.role_changed", actor=admin).exists()


def test_ownership_transfer_swaps_roles(owner: Persona, team: Account) -> None:
    developer = add_member(team, Role.DEVELOPER)
    membership = Membership.objects.get(account=team, user=developer)

    ownership_transfer(account=team, actor=owner.user, member=membership)

    assert Membership.objects.get(pk=membership.pk).role == Role.OWNER
    assert Membership.objects.get(account=team, user=owner.user).role == Role.ADMIN
    member_leave(account=team, user=owner.user)
    assert not Membership.objects.filter(account=team, user=owner.user).exists()


def test_team_delete_revokes_keys_and_removes_members(owner: Persona, team: Account) -> None:
    developer = add_member(team, Role.DEVELOPER)
    key, _ = api_key_create(account=team, name="ci", scopes=[ApiKey.ALL_SERVICES], created_by=developer)

    with pytest.raises(TeamError, match="Only an owner"):
        team_delete(account=team, actor=developer)
    team_delete(account=team, actor=owner.user)

    team.refresh_from_db()
    assert team.status == Account.Status.CLOSED
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert not Membership.objects.filter(account=team).exists()


@pytest.mark.django_db(transaction=True)
def test_two_owners_leaving_at_once_leave_one_owner() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("Needs PostgreSQL row locks.")
    first = UserFactory()
    team = team_create(user=first, name="Race")
    second = add_member(team, Role.OWNER)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def leave(user: User) -> None:
        barrier.wait()
        try:
            member_leave(account=team, user=user)
            outcomes.append("left")
        except TeamError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=leave, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["left", "refused"]
    assert Membership.objects.filter(account=team, role=Role.OWNER).count() == 1


# Pages


def test_create_team_page_selects_the_new_team(owner: Persona) -> None:
    response = owner.client.post("/teams/", {"name": "Acme"})

    team = Account.objects.get(kind=Account.Kind.TEAM)
    assert response.status_code == 302
    assert response["Location"] == f"/team/members/?account={team.pk}"
    page = owner.client.get("/team/members/")
    assert "Members of Acme" in page.content.decode()


def test_switching_accounts_changes_every_page(owner: Persona, team: Account) -> None:
    owner.client.post("/teams/switch/", {"account": team.pk, "next": "/keys/"})
    assert "Keys belong to <strong>Acme</strong>" in owner.client.get("/keys/").content.decode()

    owner.client.post("/teams/switch/", {"account": owner.account.pk})
    assert "Acme</strong>" not in owner.client.get("/keys/").content.decode()


def test_switch_refuses_foreign_accounts_and_offsite_next(owner: Persona, outsider: Persona) -> None:
    response = owner.client.post("/teams/switch/", {"account": outsider.account.pk})
    assert response["Location"] == "/teams/"
    response = owner.client.post("/teams/switch/", {"account": owner.account.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


def test_account_in_the_url_of_another_account_is_404(owner: Persona, outsider: Persona) -> None:
    assert outsider.client.get(f"/keys/?account={owner.account.pk}").status_code == 404
    assert outsider.client.get("/keys/?account=not-a-number").status_code == 404
    assert outsider.client.get(f"/team/members/?account={owner.account.pk}").status_code == 404


def test_invitation_page_flow(owner: Persona, team: Account, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        owner.client.post(f"/team/members/invite/?account={team.pk}", {"email": "dev@example.com", "role": "developer"})
    token = token_from_mail()
    developer = UserFactory(email="dev@example.com")
    client = Client()

    assert client.get(f"/invitations/{token}/").status_code == 302  # sign in first
    client.force_login(developer)
    assert "join <strong>Acme</strong> as developer" in client.get(f"/invitations/{token}/").content.decode()
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 302
    assert Membership.objects.get(account=team, user=developer).role == Role.DEVELOPER
    assert client.post(f"/invitations/{token}/").status_code == 400
    assert client.get("/invitations/unknown-token/").status_code == 404


def test_bad_invite_form_changes_nothing(owner: Persona, team: Account) -> None:
    response = owner.client.post(f"/team/members/invite/?account={team.pk}", {"email": "not-an-email", "role": "king"})

    assert response.status_code == 302
    assert not Invitation.objects.exists()
    assert "not sent" in owner.client.get(response["Location"]).content.decode()


def test_member_ids_of_another_team_are_404(owner: Persona, outsider: Persona, team: Account) -> None:
    other = team_create(user=outsider.user, name="Other")
    victim = Membership.objects.get(account=other)

    for url in (
        f"/team/members/{victim.pk}/role/",
        f"/team/members/{victim.pk}/remove/",
        f"/team/members/{victim.pk}/transfer/",
    ):
        assert owner.client.post(f"{url}?account={team.pk}", {"role": "billing"}).status_code == 404
    assert Membership.objects.get(pk=victim.pk).role == Role.OWNER


def test_team_delete_page_needs_the_name(owner: Persona, team: Account) -> None:
    client = signed_in_client(owner)

    wrong = client.post(f"/team/delete/?account={team.pk}", {"confirm": "acme"})
    assert wrong.status_code == 400
    right = client.post(f"/team/delete/?account={team.pk}", {"confirm": "Acme"})
    assert right.status_code == 302
    assert Account.objects.get(pk=team.pk).status == Account.Status.CLOSED


def test_team_settings_rename_is_audited(owner: Persona, team: Account) -> None:
    owner.client.post(f"/team/settings/?account={team.pk}", {"name": "Acme Corp"})

    assert Account.objects.get(pk=team.pk).name == "Acme Corp"
    assert AuditEvent.objects.filter(account=team, action="team.renamed", actor=owner.user).exists()


def test_team_name_is_escaped_everywhere(owner: Persona) -> None:
    team_create(user=owner.user, name="<script>alert(1)</script>")
    page = owner.client.get("/teams/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
