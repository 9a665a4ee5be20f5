"""The user service through the gateway: accounts, sessions and emailed tokens."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.test import override_settings

from services.builtin.user.models import EndUser, EndUserSession, EndUserToken
from tests.conftest import Persona

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_hasher(settings) -> None:
    # Most tests sign in many times; one test below checks the platform's real hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def user(persona: Persona, endpoint: str, **body: object):
    return persona.call("user", endpoint, body=body)


def alice(persona: Persona, **extra: object) -> dict:
    body = {"id": "u1", "username": "alice", "email": "alice@example.com", "password": PASSWORD, **extra}
    response = persona.call("user", "Create", body=body)
    assert response.status_code == 200, response.content
    return response.json()["account"]


def login(persona: Persona, password: str = PASSWORD, **who: str) -> str:
    response = user(persona, "Login", password=password, **(who or {"username": "alice"}))
    assert response.status_code == 200, response.content
    return response.json()["session"]["id"]


def last_token() -> str:
    link = re.search(r"https?://\S+", mail.outbox[-1].body)[0]
    return parse_qs(urlsplit(link).query)["token"][0]


def send_verification(persona: Persona, **extra: object):
    body = {
        "email": "alice@example.com",
        "subject": "Confirm",
        "textContent": "Open $micro_verification_link now",
        "redirectUrl": "https://app.example.com/verify?lang=en",
        **extra,
    }
    return persona.call("user", "SendVerificationEmail", body=body)


def send_magic_link(persona: Persona, **extra: object):
    body = {"email": "alice@example.com", "subject": "Sign in", "textContent": "$micro_verification_link", "address": "https://app.example.com/m", **extra}
    return persona.call("user", "SendMagicLink", body=body)


def send_reset(persona: Persona, **extra: object) -> str:
    body = {"email": "alice@example.com", "subject": "Reset", "textContent": "Code: $code", **extra}
    assert persona.call("user", "SendPasswordResetEmail", body=body).status_code == 200
    return mail.outbox[-1].body.removeprefix("Code: ")


def reset(persona: Persona, code: str, new: str = "new password 123", **extra: object):
    body = {"email": "alice@example.com", "code": code, "newPassword": new, "confirmPassword": new, **extra}
    return persona.call("user", "ResetPassword", body=body)


# Accounts


def test_create_then_read_by_id_username_or_email(owner: Persona) -> None:
    with time_machine.travel("2026-01-01 12:00:00Z", tick=False):
        created = alice(owner, profile={"plan": "pro"})

    assert created == {
        "id": "u1",
        "username": "alice",
        "email": "alice@example.com",
        "created": 1767268800,
        "updated": 1767268800,
        "verified": False,
        "verificationDate": 0,
        "profile": {"plan": "pro"},
    }
    for body in ({"id": "u1"}, {"username": "ALICE"}, {"email": "Alice@Example.com"}):
        assert user(owner, "Read", **body).json()["account"] == created


def test_password_is_stored_with_the_platform_hasher(owner: Persona, settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    alice(owner)

    stored = EndUser.objects.get().password

    assert PASSWORD not in stored
    assert identify_hasher(stored).algorithm == "pbkdf2_sha256"
    assert login(owner)


def test_generated_id(owner: Persona) -> None:
    created = user(owner, "Create", username="bob", email="bob@example.com", password=PASSWORD).json()["account"]

    assert len(created["id"]) == 36


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "u1", "username": "other", "email": "other@example.com"}, "id"),
        ({"id": "u2", "username": "ALICE", "email": "other@example.com"}, "username"),
        ({"id": "u2", "username": "other", "email": "ALICE@example.com"}, "email"),
    ],
)
def test_taken_id_username_or_email_is_400(owner: Persona, body: dict, field: str) -> None:
    alice(owner)

    response = user(owner, "Create", password=PASSWORD, **body)

    assert response.status_code == 400
    assert response.json()["id"] == "user.create"
    assert response.json()["fields"] == {field: "Already taken."}


def test_invalid_email_is_400(owner: Persona) -> None:
    response = user(owner, "Create", username="a", email="not an email", password=PASSWORD)

    assert response.status_code == 400
    assert response.json()["fields"] == {"email": "Not a valid email address."}


def test_read_needs_exactly_one_key(owner: Persona) -> None:
    alice(owner)

    for body in ({}, {"id": "u1", "username": "alice"}):
        response = user(owner, "Read", **body)
        assert response.status_code == 400
        assert response.json()["id"] == "user.read"


def test_update_changes_given_fields_and_unverifies_new_email(owner: Persona) -> None:
    alice(owner)
    EndUser.objects.update(verified=True)

    same = user(owner, "Update", id="u1", email="ALICE@example.com").json()["account"]
    changed = user(owner, "Update", id="u1", username="al", email="al@example.com", profile={"a": "b"}).json()["account"]

    assert same["verified"] is True
    assert (changed["username"], changed["email"], changed["profile"], changed["verified"]) == ("al", "al@example.com", {"a": "b"}, False)
    assert user(owner, "Read", username="al").json()["account"] == changed


def test_update_to_taken_username_is_400(owner: Persona) -> None:
    alice(owner)
    user(owner, "Create", id="u2", username="bob", email="bob@example.com", password=PASSWORD)

    response = user(owner, "Update", id="u2", username="Alice")

    assert response.status_code == 400
    assert response.json()["fields"] == {"username": "Already taken."}
    assert user(owner, "Read", id="u2").json()["account"]["username"] == "bob"


def test_list_and_delete(owner: Persona) -> None:
    alice(owner)
    user(owner, "Create", id="u2", username="bob", email="bob@example.com", password=PASSWORD)
    session = login(owner)

    assert [row["id"] for row in user(owner, "List").json()["users"]] == ["u1", "u2"]
    assert [row["id"] for row in user(owner, "List", offset=1, limit=1).json()["users"]] == ["u2"]
    assert user(owner, "Delete", id="u1").json() == {"id": "u1"}
    assert user(owner, "Read", id="u1").status_code == 404
    assert user(owner, "ReadSession", sessionId=session).status_code == 404


# Passwords and sessions


def test_session_login_read_logout(owner: Persona) -> None:
    alice(owner)
    with time_machine.travel("2026-01-01 12:00:00Z", tick=False):
        response = user(owner, "Login", email="ALICE@example.com", password=PASSWORD)
    session = response.json()["session"]

    assert session["userId"] == "u1"
    assert session["expires"] - session["created"] == 7 * 24 * 3600
    assert len(session["id"]) >= 40
    assert not EndUserSession.objects.filter(secret_hash__contains=session["id"]).exists()
    with time_machine.travel("2026-01-02 12:00:00Z", tick=False):
        assert user(owner, "ReadSession", sessionId=session["id"]).json()["session"] == session
    assert user(owner, "Logout", sessionId=session["id"]).json() == {}
    assert user(owner, "ReadSession", sessionId=session["id"]).status_code == 404
    assert user(owner, "Logout", sessionId=session["id"]).status_code == 404


def test_session_expires(owner: Persona) -> None:
    alice(owner)
    with time_machine.travel("2026-01-01 12:00:00Z", tick=False):
        session = login(owner)

    with time_machine.travel("2026-01-08 12:00:01Z", tick=False):
        response = user(owner, "ReadSession", sessionId=session)

    assert response.status_code == 404
    assert response.json()["id"] == "user.readsession"


@pytest.mark.parametrize(
    ("who", "status"), [({"username": "alice"}, 400), ({"username": "nobody"}, 404), ({"email": "nobody@example.com"}, 404)]
)
def test_wrong_login_is_refused(owner: Persona, who: dict, status: int) -> None:
    alice(owner)

    response = user(owner, "Login", password="wrong password", **who)

    assert response.status_code == status
    assert response.json()["id"] == "user.login"
    assert not EndUserSession.objects.exists()


def test_login_needs_username_or_email(owner: Persona) -> None:
    for body in ({"password": PASSWORD}, {"username": "alice", "email": "alice@example.com", "password": PASSWORD}):
        response = user(owner, "Login", **body)
        assert response.status_code == 400
        assert response.json()["id"] == "user.login"


def test_logout_all_ends_every_session_of_the_user(owner: Persona) -> None:
    alice(owner)
    user(owner, "Create", id="u2", username="bob", email="bob@example.com", password=PASSWORD)
    first, second, bobs = login(owner), login(owner), login(owner, username="bob")

    assert user(owner, "LogoutAll", userId="u1").json() == {}

    assert user(owner, "ReadSession", sessionId=first).status_code == 404
    assert user(owner, "ReadSession", sessionId=second).status_code == 404
    assert user(owner, "ReadSession", sessionId=bobs).status_code == 200


def test_update_password(owner: Persona) -> None:
    alice(owner)

    wrong = user(owner, "UpdatePassword", userId="u1", oldPassword="nope", newPassword="new password 1", confirmPassword="new password 1")
    mismatch = user(owner, "UpdatePassword", userId="u1", oldPassword=PASSWORD, newPassword="new password 1", confirmPassword="new password 2")
    done = user(owner, "UpdatePassword", userId="u1", oldPassword=PASSWORD, newPassword="new password 1", confirmPassword="new password 1")

    assert wrong.status_code == 400
    assert wrong.json()["fields"] == {"oldPassword": "Wrong password."}
    assert mismatch.status_code == 400
    assert mismatch.json()["fields"] == {"confirmPassword": "Differs from newPassword."}
    assert done.json() == {}
    assert user(owner, "Login", username="alice", password=PASSWORD).status_code == 400
    assert login(owner, password="new password 1")


# Emailed tokens


def test_verification_email_link_verifies_once(owner: Persona) -> None:
    alice(owner)

    assert send_verification(owner, fromName="Example App").json() == {}

    message = mail.outbox[-1]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Confirm"
    assert message.from_email.startswith("Example App <")
    assert "https://app.example.com/verify?lang=en&token=" in message.body
    token = last_token()
    assert not EndUserToken.objects.filter(secret_hash=token).exists()
    with time_machine.travel("2026-01-01 12:00:00Z", tick=False):
        verified = user(owner, "VerifyEmail", token=token).json()["account"]
    assert (verified["verified"], verified["verificationDate"]) == (True, 1767268800)
    again = user(owner, "VerifyEmail", token=token)
    assert again.status_code == 404
    assert again.json()["id"] == "user.verifyemail"


def test_verification_token_expires(owner: Persona) -> None:
    alice(owner)
    with time_machine.travel("2026-01-01 12:00:00Z", tick=False):
        send_verification(owner, expiration=60)

    with time_machine.travel("2026-01-01 12:01:01Z", tick=False):
        response = user(owner, "VerifyEmail", token=last_token())

    assert response.status_code == 404
    assert not EndUser.objects.get().verified


def test_verification_token_stops_working_when_email_changes(owner: Persona) -> None:
    alice(owner)
    send_verification(owner)
    user(owner, "Update", id="u1", email="new@example.com")

    assert user(owner, "VerifyEmail", token=last_token()).status_code == 404
    assert not EndUser.objects.get().verified


def test_password_reset_code_works_once_and_ends_sessions(owner: Persona) -> None:
    alice(owner)
    session = login(owner)
    code = send_reset(owner)

    assert re.fullmatch(r"[A-Z2-9]{10}", code)
    assert reset(owner, code.lower(), new="other 1", confirmPassword="other 2").status_code == 400
    assert reset(owner, "WRONGCODE1").status_code == 400
    assert reset(owner, code.lower()).json() == {}
    assert reset(owner, code, new="third password").status_code == 400
    assert user(owner, "ReadSession", sessionId=session).status_code == 404
    assert login(owner, password="new password 123")


def test_password_reset_code_expires(owner: Persona) -> None:
    alice(owner)
    with time_machine.travel("2026-01-01 12:00:00Z", tick=False):
        code = send_reset(owner)

    with time_machine.travel("2026-01-01 13:00:01Z", tick=False):
        response = reset(owner, code)

    assert response.status_code == 400
    assert response.json()["id"] == "user.resetpassword"


def test_reset_code_of_another_user_is_refused(owner: Persona) -> None:
    alice(owner)
    user(owner, "Create", id="u2", username="bob", email="bob@example.com", password=PASSWORD)
    code = send_reset(owner, email="bob@example.com")

    assert reset(owner, code).status_code == 400


def test_magic_link_signs_in_once(owner: Persona) -> None:
    alice(owner)
    assert send_magic_link(owner).json() == {}
    token = last_token()

    first = user(owner, "VerifyToken", token=token).json()
    second = user(owner, "VerifyToken", token=token).json()

    assert first["is_valid"] is True
    assert first["session"]["userId"] == "u1"
    assert user(owner, "ReadSession", sessionId=first["session"]["id"]).status_code == 200
    assert second == {"is_valid": False, "message": "The token is invalid, expired or already used.", "session": None}
    assert EndUser.objects.get().verified


def test_magic_link_expires(owner: Persona) -> None:
    alice(owner)
    with time_machine.travel("2026-01-01 12:00:00Z", tick=False):
        send_magic_link(owner)

    with time_machine.travel("2026-01-01 12:15:01Z", tick=False):
        assert user(owner, "VerifyToken", token=last_token()).json()["is_valid"] is False


def test_tokens_are_not_interchangeable(owner: Persona) -> None:
    alice(owner)
    send_magic_link(owner)
    magic = last_token()
    send_verification(owner)
    verification = last_token()

    assert user(owner, "VerifyEmail", token=magic).status_code == 404
    assert user(owner, "VerifyToken", token=verification).json()["is_valid"] is False


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("SendVerificationEmail", {"textContent": "no link"}, "textContent"),
        ("SendVerificationEmail", {"redirectUrl": "javascript:alert(1)"}, "redirectUrl"),
        ("SendVerificationEmail", {"redirectUrl": "ftp://example.com/"}, "redirectUrl"),
        ("SendMagicLink", {"address": "app.example.com/path"}, "address"),
        ("SendMagicLink", {"textContent": "no link"}, "textContent"),
        ("SendPasswordResetEmail", {"textContent": "no code"}, "textContent"),
    ],
)
def test_bad_email_request_is_400_and_sends_nothing(owner: Persona, endpoint: str, body: dict, field: str) -> None:
    alice(owner)
    base = {"email": "alice@example.com", "subject": "S", "textContent": "$micro_verification_link $code"}
    if endpoint == "SendVerificationEmail":
        base["redirectUrl"] = "https://app.example.com/"
    if endpoint == "SendMagicLink":
        base["address"] = "https://app.example.com/"

    response = owner.call("user", endpoint, body={**base, **body})

    assert response.status_code == 400
    assert response.json()["fields"] == {field: response.json()["fields"][field]}
    assert mail.outbox == []
    assert not EndUserToken.objects.exists()


@pytest.mark.parametrize("endpoint", ["SendVerificationEmail", "SendMagicLink", "SendPasswordResetEmail"])
def test_email_to_unknown_user_is_404(owner: Persona, endpoint: str) -> None:
    body = {"email": "nobody@example.com", "subject": "S", "textContent": "$micro_verification_link $code"}
    if endpoint == "SendVerificationEmail":
        body["redirectUrl"] = "https://app.example.com/"
    if endpoint == "SendMagicLink":
        body["address"] = "https://app.example.com/"

    response = owner.call("user", endpoint, body=body)

    assert response.status_code == 404
    assert response.json()["id"] == f"user.{endpoint.lower()}"
    assert mail.outbox == []


def test_unreachable_mail_server_is_503_and_free(owner: Persona, settings) -> None:
    alice(owner)
    # Port 9 on loopback (discard) has no mail server, so the connection is refused.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 5},
        }
    }
    before = owner.balance

    response = send_verification(owner)

    assert response.status_code == 503
    assert response.json()["id"] == "user.sendverificationemail"
    assert owner.balance == before


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Read", {"id": "nobody"}),
        ("Read", {"username": "nobody"}),
        ("Read", {"email": "nobody@example.com"}),
        ("Update", {"id": "nobody", "username": "x"}),
        ("Delete", {"id": "nobody"}),
        ("UpdatePassword", {"userId": "nobody", "oldPassword": "x", "newPassword": "12345678", "confirmPassword": "12345678"}),
        ("LogoutAll", {"userId": "nobody"}),
        ("ReadSession", {"sessionId": "nothing"}),
        ("Logout", {"sessionId": "nothing"}),
        ("Login", {"username": "nobody", "password": "x"}),
        ("VerifyEmail", {"token": "nothing"}),
        ("ResetPassword", {"email": "nobody@example.com", "code": "X", "newPassword": "12345678", "confirmPassword": "12345678"}),
    ],
)
def test_missing_is_404_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("user", endpoint, body=body)

    assert response.status_code == 404
    assert response.json()["id"] == f"user.{endpoint.lower()}"
    assert owner.balance == before


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_row_limit_is_403(owner: Persona) -> None:
    alice(owner)

    response = user(owner, "Create", username="bob", email="bob@example.com", password=PASSWORD)

    assert response.status_code == 403
    assert response.json()["id"] == "user.row_limit"


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Create", {"username": "a", "email": "a@example.com"}),
        ("Create", {"username": "a", "email": "a@example.com", "password": "short"}),
        ("Create", {"username": "a b", "email": "a@example.com", "password": PASSWORD}),
        ("Create", {"username": "a@b", "email": "a@example.com", "password": PASSWORD}),
        ("Create", {"username": "a", "email": "a@example.com", "password": PASSWORD, "profile": {"n": 1}}),
        ("Create", {"username": "a", "password": PASSWORD}),
        ("Read", {"id": ""}),
        ("Update", {"username": "x"}),
        ("Delete", {}),
        ("List", {"limit": 0}),
        ("UpdatePassword", {"userId": "u1", "oldPassword": "x", "newPassword": "short", "confirmPassword": "short"}),
        ("Login", {"username": "alice"}),
        ("Logout", {}),
        ("LogoutAll", {"id": "u1"}),
        ("ReadSession", {"sessionId": ""}),
        ("SendVerificationEmail", {"email": "a@example.com", "subject": "S", "textContent": "$micro_verification_link"}),
        ("SendVerificationEmail", {"email": "a@example.com", "subject": "S\nBcc: x@example.com", "textContent": "t", "redirectUrl": "https://a/"}),
        ("SendPasswordResetEmail", {"email": "a@example.com", "subject": "S", "textContent": "$code", "fromName": "A\r\nB"}),
        ("SendPasswordResetEmail", {"email": "a@example.com", "subject": "S", "textContent": "$code", "expiration": 10}),
        ("VerifyEmail", {}),
        ("ResetPassword", {"email": "a@example.com", "code": "X", "newPassword": "12345678"}),
        ("SendMagicLink", {"email": "a@example.com", "subject": "S", "textContent": "t"}),
        ("VerifyToken", {"token": ""}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("user", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_purge_account_deletes_users_sessions_and_tokens(owner: Persona, outsider: Persona) -> None:
    from services.registry import purge_account

    alice(owner)
    login(owner)
    send_magic_link(owner)
    alice(outsider)

    purge_account(owner.account.pk)

    for model in (EndUser, EndUserSession, EndUserToken):
        assert not model.objects.filter(account_id=owner.account.pk).exists()
    assert EndUser.objects.filter(account_id=outsider.account.pk).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_magic_link_parallel_uses_once(live_server, settings) -> None:
    import httpx

    from tests.factories import UserFactory, make_key

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    platform_user = UserFactory()
    _, secret = make_key(platform_user)
    headers = {"Authorization": f"Bearer {secret}"}
    base = f"{live_server.url}/v1/user"
    httpx.post(f"{base}/Create", json={"username": "alice", "email": "alice@example.com", "password": PASSWORD}, headers=headers)
    httpx.post(
        f"{base}/SendMagicLink",
        json={"email": "alice@example.com", "subject": "S", "textContent": "$micro_verification_link", "address": "https://a.example/"},
        headers=headers,
    )
    token = last_token()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: httpx.post(f"{base}/VerifyToken", json={"token": token}, headers=headers, timeout=60), range(6)))

    assert [response.status_code for response in results] == [200] * 6
    assert sum(response.json()["is_valid"] for response in results) == 1
    assert EndUserSession.objects.count() == 1
