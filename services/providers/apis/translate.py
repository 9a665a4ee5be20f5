"""translate: text from one language to another, with DeepL."""

from __future__ import annotations

from typing import Any

from catalog.services import EndpointSpec
from services.providers.base import Adapter, Auth, Classified, Mapping, Problem, ProviderRequest, ProviderService
from services.providers.dispatch import provider_service_register
from services.providers.schema import array, obj, response, string

LANGUAGE = {"type": "string", "pattern": "^[A-Za-z]{2}(-[A-Za-z]{2,4})?$"}

MAX_TEXTS = 50  # DeepL accepts up to 50 texts per request
TRANSLATION = response(
    {"text": string("The translation."), "source": string("Language of the text, given or detected.")}
)

ENDPOINTS = [
    EndpointSpec(
        name="Text",
        description="Translate one or more texts. The source language is detected when not given.",
        request_schema=obj(
            {
                "contents": array(string("A text.", minLength=1, maxLength=30_000), "The texts to translate.")
                | {"minItems": 1, "maxItems": MAX_TEXTS},
                "source": {**LANGUAGE, "description": "Language of the texts, such as en; detected when left out."},
                "target": {**LANGUAGE, "description": "Language to translate into, such as de or en-GB."},
                "format": {"type": "string", "enum": ["text", "html"], "description": "text (default) or html."},
            },
            required=["contents", "target"],
        ),
        response_schema=response({"translations": array(TRANSLATION, "One translation per text, in order.")}),
        price_units=5_000,
        examples=[{"title": "English to German", "request": {"contents": ["Hello world"], "target": "de"},
                   "response": {"translations": [{"text": "Hallo Welt", "source": "en"}]}}],
    ),
]


def _request(body: dict[str, Any]) -> ProviderRequest:
    payload: dict[str, Any] = {"text": list(body["contents"]), "target_lang": body["target"].upper()}
    if body.get("source"):
        payload["source_lang"] = body["source"].split("-", 1)[0].upper()
    if body.get("format") == "html":
        payload["tag_handling"] = "html"
    return ProviderRequest(method="POST", path="/v2/translate", json=payload)


def _response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    translations = payload["translations"]
    if len(translations) != len(body["contents"]):
        raise ValueError("one translation per text expected")
    return {
        "translations": [
            {"text": item["text"], "source": (body.get("source") or item["detected_source_language"]).lower()}
            for item in translations
        ]
    }


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
        "Text": Mapping(request=_request, response=_response)
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
