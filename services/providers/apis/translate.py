"""translate: text from one language to another, with DeepL."""

from __future__ import annotations

from typing import Any

from catalog.services import EndpointSpec
from services.providers.base import Adapter, Auth, Classified, Mapping, Problem, ProviderRequest, ProviderService
from services.providers.dispatch import provider_service_register
from services.providers.schema import obj, response, string

LANGUAGE = {"type": "string", "pattern": "^[A-Za-z]{2}(-[A-Za-z]{2,4})?$"}

ENDPOINTS = [
    EndpointSpec(
        name="Text",
        description="Translate text. The source language is detected when not given.",
        request_schema=obj(
            {
                "content": string("The text to translate.", minLength=1, maxLength=30_000),
                "source": {**LANGUAGE, "description": "Language of the text, such as en; detected when left out."},
                "target": {**LANGUAGE, "description": "Language to translate into, such as de or en-GB."},
                "format": {"type": "string", "enum": ["text", "html"], "description": "text (default) or html."},
            },
            required=["content", "target"],
        ),
        response_schema=response(
            {"text": string("The translation."), "source": string("Language of the text, given or detected."),
             "target": string("Language of the translation.")}
        ),
        price_units=5_000,
        examples=[{"title": "English to German", "request": {"content": "Hello world", "target": "de"},
                   "response": {"text": "Hallo Welt", "source": "en", "target": "de"}}],
    ),
]


def _request(body: dict[str, Any]) -> ProviderRequest:
    payload: dict[str, Any] = {"text": [body["content"]], "target_lang": body["target"].upper()}
    if body.get("source"):
        payload["source_lang"] = body["source"].split("-", 1)[0].upper()
    if body.get("format") == "html":
        payload["tag_handling"] = "html"
    return ProviderRequest(method="POST", path="/v2/translate", json=payload)


def _inspect(status: int, payload: Any) -> Classified | None:
    if status == 456:  # DeepL: the plan's character quota is used up
        return Classified(Problem.QUOTA)
    return None


DEEPL = Adapter(
    name="deepl",
    title="DeepL",
    base_urls={"default": "https://api.deepl.com"},
    auth=Auth(kind="header", name="Authorization", prefix="DeepL-Auth-Key "),
    credential_help="The DeepL API key. Free-plan keys (ending in :fx) need the base URL https://api-free.deepl.com.",
    inspect=_inspect,
    endpoints={
        "Text": Mapping(
            request=_request,
            response=lambda payload, body: {
                "text": payload["translations"][0]["text"],
                "source": (body.get("source") or payload["translations"][0]["detected_source_language"]).lower(),
                "target": body["target"].lower(),
            },
        )
    },
)

SERVICE = provider_service_register(
    service=ProviderService(slug="translate", title="Translate", adapters=[DEEPL]),
    spec={
        "name": "Translate",
        "tagline": "Translate text between languages.",
        "description": "Machine translation of plain text or HTML, with the source language detected when not given.",
        "category": "Language",
        "icon": "🈯",
    },
    endpoints=ENDPOINTS,
)
