"""The user service's endpoints, schemas and examples."""

from __future__ import annotations

from typing import Any

from services.builtin.schemas import request_object, response_object
from services.builtin.user import handlers
from services.registry import BuiltinEndpoint, BuiltinService, Handler, register

USER_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The user's id."}
USERNAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 128,
    "pattern": "^[^\\s@]+$",
    "description": "A username without spaces or @; unique in your account, whatever its case.",
}
EMAIL = {"type": "string", "minLength": 3, "maxLength": 254, "description": "An email address; unique in your account."}
PASSWORD = {"type": "string", "minLength": 8, "maxLength": 128, "description": "A password of 8 to 128 characters."}
PROFILE = {
    "type": "object",
    "maxProperties": 100,
    "additionalProperties": {"type": "string", "maxLength": 10_000},
    "description": "Any text fields you want to keep about the user.",
}
SESSION_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The session id Login returned."}
TOKEN = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The token from the emailed link."}
SUBJECT = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\r\\n]*$", "description": "The email's subject."}
FROM_NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 100,
    "pattern": "^[^\\r\\n]*$",
    "description": "The sender name shown to the user.",
}
URL = {"type": "string", "minLength": 1, "maxLength": 2048}


def _text(placeholder: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": 10_000,
        "description": f"The email's plain text; it must contain {placeholder}.",
    }


def _expiration(default: int) -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": 60,
        "maximum": 604_800,
        "default": default,
        "description": "Seconds until the emailed secret expires.",
    }


ACCOUNT = response_object(
    {
        "id": {"type": "string"},
        "username": {"type": "string"},
        "email": {"type": "string"},
        "created": {"type": "integer", "description": "Unix seconds."},
        "updated": {"type": "integer", "description": "Unix seconds."},
        "verified": {"type": "boolean", "description": "Whether the user proved the email address is theirs."},
        "verificationDate": {"type": "integer", "description": "Unix seconds of the verification; 0 if none."},
        "profile": {"type": "object", "additionalProperties": {"type": "string"}},
    }
)
SESSION = response_object(
    {
        "id": {"type": "string", "description": "The session id; keep it secret, it signs the user in."},
        "userId": {"type": "string"},
        "created": {"type": "integer", "description": "Unix seconds."},
        "expires": {"type": "integer", "description": "Unix seconds."},
    }
)
EMPTY = response_object({})
PAGE = {
    "offset": {"type": "integer", "minimum": 0, "default": 0, "description": "Users to skip."},
    "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 25, "description": "Maximum users returned."},
}
EXAMPLE_ACCOUNT = {
    "id": "usr_alice",
    "username": "alice",
    "email": "alice@example.com",
    "created": 1767268800,
    "updated": 1767268800,
    "verified": False,
    "verificationDate": 0,
    "profile": {},
}
EXAMPLE_SESSION = {"id": "bW9ja19zZXNzaW9uX2lkX2Zvcl9kb2NzX29ubHk", "userId": "usr_alice", "created": 1767268800, "expires": 1767873600}
NEW_PASSWORD = "a longer passphrase 2"


def _endpoint(name: str, handler: Handler, description: str, price_units: int = 100, **spec: Any) -> BuiltinEndpoint:
    return BuiltinEndpoint(name=name, handler=handler, description=description, price_units=price_units, **spec)


SERVICE = register(
    BuiltinService(
        slug="user",
        name="User",
        tagline="Sign-up, sign-in and sessions for your app's users.",
        description=(
            "Accounts for the users of your own app: create them, sign them in and out, verify their email "
            "addresses, reset forgotten passwords and send magic sign-in links. Passwords are stored hashed; "
            "session ids, links and codes are random, usable until they expire, and stored only as hashes. "
            "Emails go out from the platform's sender with your subject, text and sender name; your text "
            "says where the link or code goes with `$micro_verification_link` or `$code`."
        ),
        category="Security",
        icon="👤",
        purge_account=handlers.purge_account,
        endpoints=[
            _endpoint(
                "Create",
                handlers.create,
                "Create a user. Give an id of your own, or get a new UUID.",
                request_schema=request_object(
                    {"id": USER_ID, "username": USERNAME, "email": EMAIL, "password": PASSWORD, "profile": PROFILE},
                    ["username", "email", "password"],
                ),
                response_schema=response_object({"account": ACCOUNT}),
                examples=[
                    {
                        "title": "Sign up Alice",
                        "request": {
                            "id": "usr_alice",
                            "username": "alice",
                            "email": "alice@example.com",
                            "password": "correct horse battery",
                        },
                        "response": {"account": EXAMPLE_ACCOUNT},
                    }
                ],
            ),
            _endpoint(
                "Read",
                handlers.read,
                "Read a user by exactly one of id, username or email.",
                request_schema=request_object({"id": USER_ID, "username": USERNAME, "email": EMAIL}, []),
                response_schema=response_object({"account": ACCOUNT}),
                examples=[
                    {"title": "Read by username", "request": {"username": "alice"}, "response": {"account": EXAMPLE_ACCOUNT}},
                    {"title": "Read by email", "request": {"email": "alice@example.com"}, "response": {"account": EXAMPLE_ACCOUNT}},
                ],
            ),
            _endpoint(
                "Update",
                handlers.update,
                "Change a user's username, email or profile. A changed email is unverified again.",
                request_schema=request_object(
                    {"id": USER_ID, "username": USERNAME, "email": EMAIL, "profile": PROFILE}, ["id"]
                ),
                response_schema=response_object({"account": ACCOUNT}),
                examples=[
                    {
                        "title": "Keep Alice's display name",
                        "request": {"id": "usr_alice", "profile": {"displayName": "Alice A."}},
                        "response": {"account": {**EXAMPLE_ACCOUNT, "profile": {"displayName": "Alice A."}}},
                    }
                ],
            ),
            _endpoint(
                "UpdatePassword",
                handlers.update_password,
                "Change a user's password, given the current one.",
                request_schema=request_object(
                    {"userId": USER_ID, "oldPassword": {"type": "string", "maxLength": 128}, "newPassword": PASSWORD, "confirmPassword": PASSWORD},
                    ["userId", "oldPassword", "newPassword", "confirmPassword"],
                ),
                response_schema=EMPTY,
                examples=[
                    {
                        "title": "Change Alice's password",
                        "request": {
                            "userId": "usr_alice",
                            "oldPassword": "correct horse battery",
                            "newPassword": NEW_PASSWORD,
                            "confirmPassword": NEW_PASSWORD,
                        },
                        "response": {},
                    }
                ],
            ),
            _endpoint(
                "Login",
                handlers.login,
                "Sign a user in with username or email and password, and start a session of 7 days.",
                request_schema=request_object(
                    {"username": USERNAME, "email": EMAIL, "password": {"type": "string", "maxLength": 128}}, ["password"]
                ),
                response_schema=response_object({"session": SESSION}),
                examples=[
                    {
                        "title": "Sign Alice in",
                        "request": {"username": "alice", "password": NEW_PASSWORD},
                        "response": {"session": EXAMPLE_SESSION},
                    }
                ],
            ),
            _endpoint(
                "ReadSession",
                handlers.read_session,
                "Read a live session by the id Login or VerifyToken returned; 404 once it has expired or ended.",
                request_schema=request_object({"sessionId": SESSION_ID}, ["sessionId"]),
                response_schema=response_object({"session": SESSION}),
            ),
            _endpoint(
                "Logout",
                handlers.logout,
                "End one session.",
                request_schema=request_object({"sessionId": SESSION_ID}, ["sessionId"]),
                response_schema=EMPTY,
            ),
            _endpoint(
                "LogoutAll",
                handlers.logout_all,
                "End every session of a user.",
                request_schema=request_object({"userId": USER_ID}, ["userId"]),
                response_schema=EMPTY,
                examples=[{"title": "Sign Alice out everywhere", "request": {"userId": "usr_alice"}, "response": {}}],
            ),
            _endpoint(
                "List",
                handlers.list_users,
                "List users, oldest first.",
                request_schema=request_object(PAGE, []),
                response_schema=response_object({"users": {"type": "array", "items": ACCOUNT}}),
                examples=[{"title": "List users", "request": {"limit": 10}, "response": {"users": [EXAMPLE_ACCOUNT]}}],
            ),
            _endpoint(
                "SendVerificationEmail",
                handlers.send_verification_email,
                "Email a user a link that proves their address: redirectUrl with ?token=... added. "
                "Your page at redirectUrl passes the token to VerifyEmail.",
                price_units=1_000,
                request_schema=request_object(
                    {
                        "email": EMAIL,
                        "subject": SUBJECT,
                        "textContent": _text("$micro_verification_link"),
                        "redirectUrl": {**URL, "description": "Your http(s) page the link opens, with token=... added."},
                        "fromName": FROM_NAME,
                        "expiration": _expiration(24 * 3600),
                    },
                    ["email", "subject", "textContent", "redirectUrl"],
                ),
                response_schema=EMPTY,
                examples=[
                    {
                        "title": "Verify Alice's address",
                        "request": {
                            "email": "alice@example.com",
                            "subject": "Confirm your email",
                            "textContent": "Welcome! Confirm your email address: $micro_verification_link",
                            "redirectUrl": "https://app.example.com/verify",
                            "fromName": "Example App",
                        },
                        "response": {},
                    }
                ],
            ),
            _endpoint(
                "VerifyEmail",
                handlers.verify_email,
                "Mark a user's email verified with the token from their verification link. Each token works once.",
                request_schema=request_object({"token": TOKEN}, ["token"]),
                response_schema=response_object({"account": ACCOUNT}),
            ),
            _endpoint(
                "SendPasswordResetEmail",
                handlers.send_password_reset_email,
                "Email a user a one-time code for ResetPassword.",
                price_units=1_000,
                request_schema=request_object(
                    {
                        "email": EMAIL,
                        "subject": SUBJECT,
                        "textContent": _text("$code"),
                        "fromName": FROM_NAME,
                        "expiration": _expiration(3600),
                    },
                    ["email", "subject", "textContent"],
                ),
                response_schema=EMPTY,
                examples=[
                    {
                        "title": "Send Alice a reset code",
                        "request": {
                            "email": "alice@example.com",
                            "subject": "Reset your password",
                            "textContent": "Your password reset code is $code. It expires in an hour.",
                        },
                        "response": {},
                    }
                ],
            ),
            _endpoint(
                "ResetPassword",
                handlers.reset_password,
                "Set a new password with the emailed code. Each code works once; every session of the user ends.",
                request_schema=request_object(
                    {
                        "email": EMAIL,
                        "code": {"type": "string", "minLength": 1, "maxLength": 64, "description": "The emailed code."},
                        "newPassword": PASSWORD,
                        "confirmPassword": PASSWORD,
                    },
                    ["email", "code", "newPassword", "confirmPassword"],
                ),
                response_schema=EMPTY,
            ),
            _endpoint(
                "SendMagicLink",
                handlers.send_magic_link,
                "Email a user a sign-in link: address with ?token=... added. Your page passes the token to VerifyToken.",
                price_units=1_000,
                request_schema=request_object(
                    {
                        "email": EMAIL,
                        "subject": SUBJECT,
                        "textContent": _text("$micro_verification_link"),
                        "address": {**URL, "description": "Your http(s) page the link opens, with token=... added."},
                        "fromName": FROM_NAME,
                        "expiration": _expiration(900),
                    },
                    ["email", "subject", "textContent", "address"],
                ),
                response_schema=EMPTY,
                examples=[
                    {
                        "title": "Send Alice a sign-in link",
                        "request": {
                            "email": "alice@example.com",
                            "subject": "Your sign-in link",
                            "textContent": "Sign in: $micro_verification_link",
                            "address": "https://app.example.com/magic",
                        },
                        "response": {},
                    }
                ],
            ),
            _endpoint(
                "VerifyToken",
                handlers.verify_token,
                "Check a magic-link token. A valid one works once and returns a new session.",
                request_schema=request_object({"token": TOKEN}, ["token"]),
                response_schema=response_object(
                    {
                        "is_valid": {"type": "boolean"},
                        "message": {"type": "string", "description": "Why the token is not valid; empty when it is."},
                        "session": {"anyOf": [SESSION, {"type": "null"}]},
                    }
                ),
                examples=[
                    {
                        "title": "A token that is not valid",
                        "request": {"token": "not-a-token-we-sent"},
                        "response": {"is_valid": False, "message": handlers.INVALID_TOKEN, "session": None},
                    }
                ],
            ),
            _endpoint(
                "Delete",
                handlers.delete,
                "Delete a user with their sessions.",
                request_schema=request_object({"id": USER_ID}, ["id"]),
                response_schema=response_object({"id": {"type": "string"}}),
                examples=[{"title": "Delete Alice", "request": {"id": "usr_alice"}, "response": {"id": "usr_alice"}}],
            ),
        ],
    )
)
