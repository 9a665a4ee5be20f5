"""Audit events for what allauth does: sign-ins, email, password and MFA changes."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import email_changed, password_changed, password_reset, user_logged_in
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.models import Account, User
from accounts.services import audit_record


def _personal_account(user: User) -> Account | None:
    return Account.objects.filter(memberships__user=user, kind=Account.Kind.PERSONAL).first()


def _client_address(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def _record(user: User, action: str, request: HttpRequest | None, **data: object) -> None:
    audit_record(account=_personal_account(user), actor=user, action=action, ip=_client_address(request), **data)


@receiver(user_logged_in, dispatch_uid="audit_signed_in")
def audit_signed_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    _record(user, "user.signed_in", request)


@receiver(email_changed, dispatch_uid="audit_email_changed")
def audit_email_changed(sender: Any, request: HttpRequest, user: User, from_email_address: Any, to_email_address: Any, **kwargs: Any) -> None:
    _record(
        user,
        "user.email_changed",
        request,
        old=getattr(from_email_address, "email", None),
        new=getattr(to_email_address, "email", None),
    )


@receiver(password_changed, dispatch_uid="audit_password_changed")
@receiver(password_reset, dispatch_uid="audit_password_reset")
def audit_password_changed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    _record(user, "user.password_changed", request)


@receiver(authenticator_added, dispatch_uid="audit_mfa_added")
def audit_mfa_added(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _record(user, "user.mfa_added", request, type=authenticator.type)


@receiver(authenticator_removed, dispatch_uid="audit_mfa_removed")
def audit_mfa_removed(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _record(user, "user.mfa_removed", request, type=authenticator.type)


@receiver(authenticator_reset, dispatch_uid="audit_mfa_reset")
def audit_mfa_reset(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    _record(user, "user.mfa_reset", request, type=authenticator.type)
