"""email: send an email, through the platform's SMTP settings or Postmark."""

from __future__ import annotations

import smtplib
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from catalog.services import EndpointSpec
from services.kit import CallContext
from services.providers.base import (
    Adapter,
    Auth,
    Classified,
    InputRejected,
    Mapping,
    Problem,
    ProviderProblem,
    ProviderRequest,
    ProviderService,
    ProviderSettings,
)
from services.providers.dispatch import provider_service_register
from services.providers.schema import obj, string

ADDRESS = string("Email address.", format="email", maxLength=254, pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+$")

ENDPOINTS = [
    EndpointSpec(
        name="Send",
        description="Send an email from the platform's address, under a sender name you choose.",
        request_schema={
            **obj(
                {
                    "from": string("Sender name, such as Acme Support.", minLength=1, maxLength=100,
                                   pattern=r"^[^\r\n<>@]+$"),
                    "to": ADDRESS,
                    "reply_to": {**ADDRESS, "description": "Address replies go to."},
                    "subject": string("Subject line.", minLength=1, maxLength=250, pattern=r"^[^\r\n]+$"),
                    "text_body": string("Plain-text body.", maxLength=100_000),
                    "html_body": string("HTML body.", maxLength=100_000),
                },
                required=["from", "to", "subject"],
            ),
            "anyOf": [{"required": ["text_body"]}, {"required": ["html_body"]}],
        },
        response_schema={"type": "object", "properties": {}, "description": "Empty when the email was accepted."},
        price_units=10_000,
        examples=[{"title": "A welcome email",
                   "request": {"from": "Acme", "to": "alice@example.com", "subject": "Welcome",
                               "text_body": "Hello Alice, welcome to Acme."},
                   "response": {}}],
    ),
]


def _sender(name: str) -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "no-reply@localhost"
    return formataddr((name, address))


def _smtp_send(context: CallContext, provider: ProviderSettings) -> dict[str, Any]:
    body = context.body
    message = EmailMultiAlternatives(
        subject=body["subject"],
        body=body.get("text_body", ""),
        from_email=_sender(body["from"]),
        to=[body["to"]],
        reply_to=[body["reply_to"]] if body.get("reply_to") else None,
        headers={"X-M3O-Request-Id": context.request_id},
    )
    if body.get("html_body"):
        message.attach_alternative(body["html_body"], "text/html")
    try:
        message.send()
    except ValueError as exc:  # Django rejects headers with line breaks
        raise InputRejected(f"the email cannot be built ({exc})") from None
    except smtplib.SMTPRecipientsRefused:
        raise InputRejected("the mail server rejected the recipient address", field="to") from None
    except smtplib.SMTPAuthenticationError:
        raise ProviderProblem(Problem.AUTH) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ProviderProblem(Problem.PROVIDER, reason=type(exc).__name__) from None
    return {}


SMTP = Adapter(
    name="smtp",
    title="SMTP (the platform's email settings)",
    credential_help="No credential here: the EMAIL_HOST settings of the platform are used.",
    endpoints={"Send": Mapping(run=_smtp_send)},
)


POSTMARK_AUTH_CODES = {10, 400, 401, 405, 412}  # bad token, sender signature missing or unconfirmed, account paused
POSTMARK_INPUT_CODES = {300, 406}  # invalid email request, inactive recipient


def _postmark_inspect(status: int, payload: Any) -> Classified | None:
    if not isinstance(payload, dict) or not payload.get("ErrorCode"):
        return None
    code = payload["ErrorCode"]
    if code in POSTMARK_AUTH_CODES:
        return Classified(Problem.AUTH)
    if code in POSTMARK_INPUT_CODES:
        return Classified(Problem.INPUT, reason=str(payload.get("Message", "")))
    if status == 429:
        return None
    return Classified(Problem.PROVIDER, reason=f"ErrorCode {code}")


def _postmark_request(body: dict[str, Any]) -> ProviderRequest:
    message = {"From": _sender(body["from"]), "To": body["to"], "Subject": body["subject"], "MessageStream": "outbound"}
    if body.get("text_body"):
        message["TextBody"] = body["text_body"]
    if body.get("html_body"):
        message["HtmlBody"] = body["html_body"]
    if body.get("reply_to"):
        message["ReplyTo"] = body["reply_to"]
    return ProviderRequest(method="POST", path="/email", json=message)


def _postmark_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    # An accepted email has a MessageID; a body without one is not a success, whatever the status.
    if not isinstance(payload["MessageID"], str) or not payload["MessageID"]:
        raise ValueError("no MessageID")
    return {}


POSTMARK = Adapter(
    name="postmark",
    title="Postmark",
    base_urls={"default": "https://api.postmarkapp.com"},
    auth=Auth(kind="header", name="X-Postmark-Server-Token"),
    credential_help="A Server API token; DEFAULT_FROM_EMAIL must be a confirmed sender signature.",
    inspect=_postmark_inspect,
    endpoints={"Send": Mapping(request=_postmark_request, response=_postmark_response)},
)

SERVICE = provider_service_register(
    service=ProviderService(slug="email", title="Email", adapters=[SMTP, POSTMARK]),
    spec={
        "name": "Email",
        "tagline": "Send transactional email.",
        "description": (
            "Send an email in plain text, HTML or both. It comes from the platform's address under the sender "
            "name you choose; set reply_to to receive the replies."
        ),
        "category": "Communications",
        "icon": "✉️",
    },
    endpoints=ENDPOINTS,
)
