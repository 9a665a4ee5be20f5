from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core import mail

from services.builtin.user.models import EndUser, EndUserSession, EndUserToken
from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

USER_ID = "it's; DROP TABLE u__1 %"
USERNAME = "owner.alice"
EMAIL = "owner.alice@example.com"
PASSWORD = "owner passphrase 1"
MARKERS = ("owner-profile-value-5d1",)
LINK_TEXT = "$micro_verification_link"


def store(persona: Persona) -> None:
    ok(
        persona,
        "user",
        "Create",
        {"id": USER_ID, "username": USERNAME, "email": EMAIL, "password": PASSWORD, "profile": {"note": MARKERS[0]}},
    )


def snapshot(persona: Persona) -> object:
    # Sessions and tokens are read from the database: their secrets are never readable through the API.
    users = EndUser.objects.filter(account_id=persona.account.pk)
    return (
        ok(persona, "user", "List", {"limit": 1000}),
        [user.password for user in users],
        sorted(EndUserSession.objects.filter(user__in=users).values_list("secret_hash", "expires_at")),
        sorted(EndUserToken.objects.filter(user__in=users).values_list("secret_hash", "used_at")),
        len(mail.outbox),
    )


def _token_from_mail() -> str:
    link = re.search(r"https?://\S+", mail.outbox[-1].body)[0]
    return parse_qs(urlsplit(link).query)["token"][0]


def seed_with(issue: Callable[[Persona], dict[str, Any]]) -> Callable[[Persona], dict[str, Any]]:
    """A seed that stores the owner's user, then issues a secret and gives it to the outsider."""

    def seed(persona: Persona) -> dict[str, Any]:
        store(persona)
        return issue(persona)

    return seed


def session(persona: Persona) -> dict[str, Any]:
    return {"sessionId": ok(persona, "user", "Login", {"username": USERNAME, "password": PASSWORD})["session"]["id"]}


def verification_token(persona: Persona) -> dict[str, Any]:
    body = {"email": EMAIL, "subject": "S", "textContent": LINK_TEXT, "redirectUrl": "https://owner.example/v"}
    ok(persona, "user", "SendVerificationEmail", body)
    return {"token": _token_from_mail()}


def magic_token(persona: Persona) -> dict[str, Any]:
    ok(persona, "user", "SendMagicLink", {"email": EMAIL, "subject": "S", "textContent": LINK_TEXT, "address": "https://owner.example/m"})
    return {"token": _token_from_mail()}


def reset_code(persona: Persona) -> dict[str, Any]:
    ok(persona, "user", "SendPasswordResetEmail", {"email": EMAIL, "subject": "S", "textContent": "$code"})
    code = mail.outbox[-1].body
    return {"email": EMAIL, "code": code, "newPassword": "outsider pass 1", "confirmPassword": "outsider pass 1"}


def case(endpoint: str, body: dict[str, Any]) -> IsolationCase:
    return IsolationCase("user", endpoint, seed_then(store, body), snapshot, MARKERS)


def issued(endpoint: str, issue: Callable[[Persona], dict[str, Any]]) -> IsolationCase:
    return IsolationCase("user", endpoint, seed_with(issue), snapshot, MARKERS)


NEW = "outsider pass 1"
CASES = [
    case("Create", {"id": USER_ID, "username": USERNAME, "email": EMAIL, "password": NEW}),
    case("Read", {"id": USER_ID}),
    case("Update", {"id": USER_ID, "username": "taken-over"}),
    case("Delete", {"id": USER_ID}),
    case("List", {}),
    case("UpdatePassword", {"userId": USER_ID, "oldPassword": PASSWORD, "newPassword": NEW, "confirmPassword": NEW}),
    case("Login", {"email": EMAIL, "password": PASSWORD}),
    issued("Logout", session),
    case("LogoutAll", {"userId": USER_ID}),
    issued("ReadSession", session),
    case("SendVerificationEmail", {"email": EMAIL, "subject": "S", "textContent": LINK_TEXT, "redirectUrl": "https://evil.example/"}),
    issued("VerifyEmail", verification_token),
    case("SendPasswordResetEmail", {"email": EMAIL, "subject": "S", "textContent": "$code"}),
    issued("ResetPassword", reset_code),
    case("SendMagicLink", {"email": EMAIL, "subject": "S", "textContent": LINK_TEXT, "address": "https://evil.example/"}),
    issued("VerifyToken", magic_token),
]
