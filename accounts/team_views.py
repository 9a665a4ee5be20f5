"""Team pages: create and switch accounts, members and roles, invitations, leaving and deleting a team.

Forms post to URLs that carry ``?account=<id>``, so an action applies to the
account the page showed even if another tab switched the session meanwhile.
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import with_membership
from accounts.models import Account, Invitation, Membership, User
from accounts.permissions import Permission, has_permission
from accounts.selectors import (
    members_of_account,
    membership_select,
    memberships_of_user,
    pending_invitations,
)
from accounts.services import audit_record
from accounts.teams import (
    MAX_TEAM_NAME_LENGTH,
    TeamError,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_revoke,
    member_leave,
    member_remove,
    member_role_change,
    ownership_transfer,
    team_create,
    team_delete,
)

ROLE_CHOICES = Membership.Role.choices


class TeamCreateForm(forms.Form):
    name = forms.CharField(max_length=MAX_TEAM_NAME_LENGTH, label="Team name")


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address")
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Membership.Role.DEVELOPER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class TeamDeleteForm(forms.Form):
    confirm = forms.CharField(label="Type the team's name to confirm")

    def __init__(self, *args: object, team_name: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.team_name = team_name

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"]
        if value.strip() != self.team_name:
            raise forms.ValidationError(f"Type {self.team_name} exactly to delete the team.")
        return value


def _members_url(account: Account) -> str:
    return f"{reverse('members')}?account={account.pk}"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@require_http_methods(["GET", "POST"])
@login_required
def teams(request: HttpRequest) -> HttpResponse:
    """List the user's accounts and create a team."""
    form = TeamCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = team_create(user=_user(request), name=form.cleaned_data["name"])
        except TeamError as exc:
            form.add_error("name", str(exc))
        else:
            membership_select(request, account.pk)
            messages.success(request, f"Team {account.name} created. Invite your colleagues below.")
            return redirect(_members_url(account))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "memberships": memberships_of_user(_user(request))}
    return render(request, "accounts/teams.html", context, status=status)


@require_POST
@login_required
def account_switch(request: HttpRequest) -> HttpResponse:
    """Make another of the user's accounts the current one."""
    if not membership_select(request, request.POST.get("account", "")):
        messages.error(request, "You are not a member of that account.")
        return redirect("teams")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("dashboard")
    return HttpResponseRedirect(target)


@require_GET
@with_membership
def members(request: HttpRequest, membership: Membership) -> HttpResponse:
    account = membership.account
    can_manage = has_permission(membership, Permission.MEMBERS) and account.kind == Account.Kind.TEAM
    is_owner = membership.role == Membership.Role.OWNER
    rows = []
    for member in members_of_account(account):
        is_other = member.user_id != membership.user_id
        # Admins manage members but not owners; owners manage everyone.
        may_edit = can_manage and is_other and (is_owner or member.role != Membership.Role.OWNER)
        rows.append(
            {
                "member": member,
                "is_self": not is_other,
                "may_edit": may_edit,
                "may_make_owner": is_owner and is_other and member.role != Membership.Role.OWNER,
            }
        )
    context = {
        "membership": membership,
        "account": account,
        "rows": rows,
        "invitations": pending_invitations(account) if can_manage else [],
        "can_manage": can_manage,
        "is_owner": is_owner,
        "invite_form": InviteForm(),
        "role_choices": ROLE_CHOICES,
    }
    return render(request, "accounts/members.html", context)


def _team_action(request: HttpRequest, membership: Membership, action: str, run: callable) -> HttpResponse:  # type: ignore[valid-type]
    try:
        run()
    except TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, action)
    return redirect(_members_url(membership.account))


@require_POST
@with_membership
def member_invite(request: HttpRequest, membership: Membership) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(problems)}" for field, problems in form.errors.items())
        messages.error(request, f"The invitation was not sent. {errors}")
        return redirect(_members_url(membership.account))
    email = form.cleaned_data["email"]
    return _team_action(
        request,
        membership,
        f"Invitation sent to {email}.",
        lambda: invitation_create(
            account=membership.account, actor=_user(request), email=email, role=form.cleaned_data["role"]
        ),
    )


@require_POST
@with_membership
def member_role(request: HttpRequest, membership: Membership, member_id: int) -> HttpResponse:
    member = get_object_or_404(Membership.objects.select_related("user"), pk=member_id, account=membership.account)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect(_members_url(membership.account))
    role = form.cleaned_data["role"]
    return _team_action(
        request,
        membership,
        f"{member.user.email} is now {role}.",
        lambda: member_role_change(account=membership.account, actor=_user(request), member=member, role=role),
    )


@require_POST
@with_membership
def member_remove_view(request: HttpRequest, membership: Membership, member_id: int) -> HttpResponse:
    member = get_object_or_404(Membership.objects.select_related("user"), pk=member_id, account=membership.account)
    if member.user_id == request.user.pk:
        messages.error(request, "To remove yourself, use Leave team.")
        return redirect(_members_url(membership.account))
    return _team_action(
        request,
        membership,
        f"{member.user.email} was removed from the team.",
        lambda: member_remove(account=membership.account, actor=_user(request), member=member),
    )


@require_POST
@with_membership
def invitation_revoke_view(request: HttpRequest, membership: Membership, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id, account=membership.account)
    return _team_action(
        request,
        membership,
        f"The invitation for {invitation.email} was revoked.",
        lambda: invitation_revoke(invitation=invitation, actor=_user(request)),
    )


@require_POST
@with_membership
def team_leave(request: HttpRequest, membership: Membership) -> HttpResponse:
    account = membership.account
    try:
        member_leave(account=account, user=_user(request))
    except TeamError as exc:
        messages.error(request, str(exc))
        return redirect(_members_url(account))
    messages.success(request, f"You left {account.name}.")
    return redirect("teams")


@require_POST
@with_membership
def team_transfer(request: HttpRequest, membership: Membership, member_id: int) -> HttpResponse:
    member = get_object_or_404(Membership.objects.select_related("user"), pk=member_id, account=membership.account)
    return _team_action(
        request,
        membership,
        f"{member.user.email} is now an owner, and you are an admin.",
        lambda: ownership_transfer(account=membership.account, actor=_user(request), member=member),
    )


class TeamSettingsForm(forms.Form):
    name = forms.CharField(max_length=MAX_TEAM_NAME_LENGTH, label="Team name")


@require_http_methods(["GET", "POST"])
@with_membership
def team_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    account = membership.account
    if account.kind != Account.Kind.TEAM:
        return redirect("settings")
    form = TeamSettingsForm(request.POST or None, initial={"name": account.name})
    if request.method == "POST" and form.is_valid():
        name = " ".join(form.cleaned_data["name"].split())
        if name and name != account.name:
            audit_record(account=account, actor=_user(request), action="team.renamed", old=account.name, new=name)
            Account.objects.filter(pk=account.pk).update(name=name)
            messages.success(request, f"The team is now called {name}.")
        return redirect(f"{reverse('team_settings')}?account={account.pk}")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/team_settings.html", {"form": form, "account": account}, status=status)


@require_http_methods(["GET", "POST"])
@with_membership  # first, so a role that may not delete is refused before any reauthentication prompt
@reauthentication_required
def team_delete_view(request: HttpRequest, membership: Membership) -> HttpResponse:
    account = membership.account
    if account.kind != Account.Kind.TEAM:
        return redirect("account_delete")
    form = TeamDeleteForm(request.POST or None, team_name=account.name)
    if request.method == "POST" and form.is_valid():
        try:
            team_delete(account=account, actor=_user(request))
        except TeamError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The team {account.name} was deleted and its API keys revoked.")
            return redirect("teams")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/team_delete.html", {"form": form, "account": account}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def invitation_view(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation and accept it for the signed-in user."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "accounts/invitation.html", {"problem": "This invitation link is not valid."}, status=404)
    if request.method == "POST":
        try:
            joined = invitation_accept(token=token, user=_user(request))
        except TeamError as exc:
            return render(request, "accounts/invitation.html", {"invitation": invitation, "problem": str(exc)}, status=400)
        membership_select(request, joined.account_id)
        messages.success(request, f"You joined {joined.account.name} as {joined.role}.")
        return redirect("dashboard")
    return render(request, "accounts/invitation.html", {"invitation": invitation})
