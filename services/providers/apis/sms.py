"""sms: send a text message, through Twilio."""

from __future__ import annotations

from typing import Any

from catalog.services import EndpointSpec
from services.providers.base import Adapter, Auth, Mapping, ProviderRequest, ProviderService
from services.providers.dispatch import provider_service_register
from services.providers.schema import obj, response, string

ENDPOINTS = [
    EndpointSpec(
        name="Send",
        description="Send a text message to a phone number.",
        request_schema=obj(
            {
                "from": string("Sender shown on the phone: up to 11 letters and digits, or an E.164 number your "
                               "operator's account owns.", pattern=r"^([A-Za-z0-9 ]{1,11}|\+[1-9][0-9]{6,14})$"),
                "to": string("Recipient in E.164 form, such as +447700900123.", pattern=r"^\+[1-9][0-9]{6,14}$"),
                "message": string("The text.", minLength=1, maxLength=1_600),
            },
            required=["from", "to", "message"],
        ),
        response_schema=response(
            {"status": string("ok when the message was accepted for delivery."),
             "info": string("The delivery state and the message's id.")}
        ),
        price_units=100_000,
        examples=[{"title": "Send a code", "request": {"from": "Example", "to": "+447700900123",
                                                       "message": "Your code is 123456"},
                   "response": {"status": "ok", "info": "queued as SM0123456789abcdef0123456789abcdef"}}],
    ),
]


def _request(body: dict[str, Any]) -> ProviderRequest:
    return ProviderRequest(
        method="POST",
        path="/2010-04-01/Accounts/{account}/Messages.json",
        form={"From": body["from"], "To": body["to"], "Body": body["message"]},
    )


TWILIO = Adapter(
    name="twilio",
    title="Twilio",
    base_urls={"default": "https://api.twilio.com"},
    auth=Auth(kind="basic"),
    credential_help="Your Account SID and Auth Token as SID:TOKEN.",
    endpoints={
        "Send": Mapping(
            request=_request,
            response=lambda payload, body: {"status": "ok", "info": f"{payload['status']} as {payload['sid']}"},
        )
    },
)

SERVICE = provider_service_register(
    service=ProviderService(slug="sms", title="SMS", adapters=[TWILIO]),
    spec={
        "name": "SMS",
        "tagline": "Send text messages to phones.",
        "description": "Send a text message to any phone number, from a short sender name.",
        "category": "Communications",
        "icon": "💬",
    },
    endpoints=ENDPOINTS,
)
