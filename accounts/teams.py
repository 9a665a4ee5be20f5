"""Writes for team accounts: creating teams, invitations, roles, leaving and deleting.

Rules every function keeps:
- A team always has an owner: the last owner cannot leave, be removed or be
  given another role. Changes lock the team's memberships first, so two
  owners leaving at once cannot both succeed.
- Invitations are single use and expire; accepting needs the invited address.
- Every change is written to the audit log with the member who made it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.authentication import auth_epoch_bump
from accounts.models import Account, Invitation, Membership, User, normalize_email
from accounts.services import account_close, audit_record, user_has_verified_email
from accounts.signals import account_created

logger = structlog.get_logger(__name__)

INVITATION_LIFETIME = dt.timedelta(days=7)
MAX_TEAM_NAME_LENGTH = 150
MAX_TEAMS_PER_USER = 20
Role = Membership.Role


class TeamError(Exception):
    """Raised when a team change is not allowed. Its message is shown to the user."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _locked_memberships(account: Account) -> list[Membership]:
    """Lock and return the team's memberships, so owner counts stay true until the transaction ends."""
    return list(Membership.objects.select_for_update().filter(account=account).order_by("pk"))


def _owner_count(memberships: list[Membership]) -> int:
    return sum(1 for membership in memberships if membership.role == Role.OWNER)


def _check_team(account: Account) -> None:
    if account.kind != Account.Kind.TEAM:
        raise TeamError("This is a personal account. Create a team to work with other people.")
    if account.status == Account.Status.CLOSED:
        raise TeamError("This team was deleted.")


def team_create(*, user: User, name: str) -> Account:
    """Create a team account with ``user`` as its owner."""
    name = " ".join(name.split())
    if not name:
        raise TeamError("Give the team a name.")
    if len(name) > MAX_TEAM_NAME_LENGTH:
        raise TeamError(f"The team name is too long: at most {MAX_TEAM_NAME_LENGTH} characters.")
    if not user_has_verified_email(user):
        raise TeamError("Verify your email address before creating a team.")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        owned = Membership.objects.filter(user=user, role=Role.OWNER, account__kind=Account.Kind.TEAM).exclude(
            account__status=Account.Status.CLOSED
        )
        if owned.count() >= MAX_TEAMS_PER_USER:
            raise TeamError(f"You own {MAX_TEAMS_PER_USER} teams, the most one person may. Delete one first.")
        account = Account.objects.create(name=name, kind=Account.Kind.TEAM)
        Membership.objects.create(account=account, user=user, role=Role.OWNER)
        account_created.send(sender=Account, account=account)
        audit_record(account=account, actor=user, action="team.created", name=name)
    logger.info("Team created", account_id=account.pk, user_id=user.pk)
    return account


def invitation_create(*, account: Account, actor: User, email: str, role: str) -> tuple[Invitation, str]:
    """Invite an address to the team; return the invitation and the secret token for its link.

    Inviting an address again replaces its open invitation, so only the newest link works.
    """
    _check_team(account)
    email = normalize_email(email)
    if role not in Role.values:
        raise TeamError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    actor_role = Membership.objects.filter(account=account, user=actor).values_list("role", flat=True).first()
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise TeamError("Only an owner can invite someone as an owner.")
    if Membership.objects.filter(account=account, user__email__iexact=email).exists():
        raise TeamError(f"{email} is already a member of {account.name}.")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(
            account=account, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    account=account,
                    email=email,
                    role=role,
                    token_hash=_token_hash(token),
                    invited_by=actor,
                    created_at=now,
                    expires_at=now + INVITATION_LIFETIME,
                )
        except IntegrityError:
            raise TeamError(f"{email} was invited by someone else at the same moment. Reload the page.") from None
        audit_record(
            account=account, actor=actor, action="invitation.created", target=f"invitation:{invitation.pk}",
            email=email, role=role,
        )
        transaction.on_commit(lambda: _send_invitation(invitation, token))
    logger.info("Invitation created", account_id=account.pk, invitation_id=invitation.pk)
    return invitation, token


def invitation_link(token: str) -> str:
    return f"{settings.SITE_URL}/invitations/{token}/"


def _send_invitation(invitation: Invitation, token: str) -> None:
    inviter = invitation.invited_by.email if invitation.invited_by else "A team owner"
    send_mail(
        subject=f"[M3O] {inviter} invited you to {invitation.account.name}",
        message=(
            f"{inviter} invited you to join the team {invitation.account.name} on M3O as {invitation.role}.\n\n"
            f"Accept the invitation here, signed in as {invitation.email}:\n{invitation_link(token)}\n\n"
            f"The link works once and expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
            "If you did not expect it, ignore this email."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_revoke(*, invitation: Invitation, actor: User) -> bool:
    """Revoke a pending invitation; return whether it was still open."""
    with transaction.atomic():
        revoked = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if revoked:
            audit_record(
                account=invitation.account, actor=actor, action="invitation.revoked",
                target=f"invitation:{invitation.pk}", email=invitation.email,
            )
    return bool(revoked)


def invitation_for_token(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return Invitation.objects.select_related("account", "invited_by").filter(token_hash=_token_hash(token)).first()


def invitation_accept(*, token: str, user: User) -> Membership:
    """Make ``user`` a member through an invitation; the link then stops working."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise TeamError("This invitation link is not valid. Ask the team for a new one.")
    if normalize_email(user.email) != normalize_email(invitation.email):
        raise TeamError(
            f"This invitation is for {invitation.email}, but you are signed in as {user.email}. "
            "Sign in with the invited address to accept it."
        )
    if not user_has_verified_email(user):
        raise TeamError("Verify your email address, then open the invitation link again.")
    now = timezone.now()
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now,
            account__status=Account.Status.ACTIVE,
        ).update(accepted_at=now, accepted_by=user)
        if not claimed:
            invitation.refresh_from_db()
            if invitation.accepted_at:
                raise TeamError("This invitation was already used. Ask the team for a new one if you need it.")
            if invitation.revoked_at:
                raise TeamError("This invitation was revoked. Ask the team for a new one.")
            if invitation.account.status != Account.Status.ACTIVE:
                raise TeamError("This team is not active, so it cannot take new members.")
            raise TeamError("This invitation has expired. Ask the team for a new one.")
        membership, created = Membership.objects.get_or_create(
            account=invitation.account, user=user, defaults={"role": invitation.role}
        )
        if created:
            audit_record(
                account=invitation.account, actor=user, action="member.joined",
                target=f"user:{user.pk}", role=invitation.role,
            )
    logger.info("Invitation accepted", account_id=invitation.account_id, user_id=user.pk)
    return membership


def member_role_change(*, account: Account, actor: User, member: Membership, role: str) -> None:
    """Give a member another role; only owners may make or unmake owners."""
    _check_team(account)
    if role not in Role.values:
        raise TeamError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    with transaction.atomic():
        memberships = _locked_memberships(account)
        actor_role = next((m.role for m in memberships if m.user_id == actor.pk), None)
        current = next((m for m in memberships if m.pk == member.pk), None)
        if current is None:
            raise TeamError("That person is no longer a member of this team.")
        if Role.OWNER in (role, current.role) and actor_role != Role.OWNER:
            raise TeamError("Only an owner can make someone an owner or change an owner's role.")
        if current.role == Role.OWNER and role != Role.OWNER and _owner_count(memberships) == 1:
            raise TeamError("A team needs an owner. Make another member an owner first.")
        if current.role == role:
            return
        Membership.objects.filter(pk=current.pk).update(role=role)
        audit_record(
            account=account, actor=actor, action="member.role_changed", target=f"user:{current.user_id}",
            old_role=current.role, new_role=role,
        )


def member_remove(*, account: Account, actor: User, member: Membership) -> None:
    """Remove a member from the team (admins may not remove owners)."""
    _check_team(account)
    with transaction.atomic():
        memberships = _locked_memberships(account)
        actor_role = next((m.role for m in memberships if m.user_id == actor.pk), None)
        current = next((m for m in memberships if m.pk == member.pk), None)
        if current is None:
            return
        if current.role == Role.OWNER and actor_role != Role.OWNER:
            raise TeamError("Only an owner can remove an owner.")
        if current.role == Role.OWNER and _owner_count(memberships) == 1:
            raise TeamError("A team needs an owner. Make another member an owner before removing this one.")
        Membership.objects.filter(pk=current.pk).delete()
        audit_record(account=account, actor=actor, action="member.removed", target=f"user:{current.user_id}")
        auth_epoch_bump()


def member_leave(*, account: Account, user: User) -> None:
    """Leave a team; the last owner must hand ownership over first."""
    _check_team(account)
    with transaction.atomic():
        memberships = _locked_memberships(account)
        mine = next((m for m in memberships if m.user_id == user.pk), None)
        if mine is None:
            return
        if mine.role == Role.OWNER and _owner_count(memberships) == 1:
            raise TeamError("You are the team's only owner. Make another member an owner, or delete the team.")
        Membership.objects.filter(pk=mine.pk).delete()
        audit_record(account=account, actor=user, action="member.left", target=f"user:{user.pk}")


def ownership_transfer(*, account: Account, actor: User, member: Membership) -> None:
    """Make ``member`` an owner and the acting owner an admin."""
    _check_team(account)
    with transaction.atomic():
        memberships = _locked_memberships(account)
        mine = next((m for m in memberships if m.user_id == actor.pk), None)
        target = next((m for m in memberships if m.pk == member.pk), None)
        if mine is None or mine.role != Role.OWNER:
            raise TeamError("Only an owner can transfer ownership.")
        if target is None or target.pk == mine.pk:
            raise TeamError("Choose another member of this team.")
        Membership.objects.filter(pk=target.pk).update(role=Role.OWNER)
        Membership.objects.filter(pk=mine.pk).update(role=Role.ADMIN)
        audit_record(
            account=account, actor=actor, action="team.ownership_transferred", target=f"user:{target.user_id}"
        )


def team_delete(*, account: Account, actor: User) -> None:
    """Delete a team: close the account (keys revoked, service data deleted) and remove its members."""
    _check_team(account)
    with transaction.atomic():
        memberships = _locked_memberships(account)
        if not any(m.user_id == actor.pk and m.role == Role.OWNER for m in memberships):
            raise TeamError("Only an owner can delete the team.")
        Invitation.objects.filter(account=account, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        account_close(account=account, actor=actor)
        Membership.objects.filter(account=account).delete()
    logger.info("Team deleted", account_id=account.pk, user_id=actor.pk)
