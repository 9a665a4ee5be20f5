"""news: top headlines by language, country and day, from TheNewsAPI."""

from __future__ import annotations

from typing import Any

from catalog.services import EndpointSpec
from services.providers.base import Adapter, Auth, Mapping, ProviderRequest, ProviderService
from services.providers.schema import array, obj, response, string
from services.providers.dispatch import provider_service_register

ARTICLE = response(
    {
        "id": string("Article id."),
        "title": string("Headline."),
        "description": string("Summary."),
        "url": string("Link to the article."),
        "image_url": string("Link to the article's image; may be empty."),
        "source": string("Publisher's domain."),
        "published_at": string("Publication time, RFC 3339."),
        "categories": array({"type": "string"}, "Topics, such as business."),
        "keywords": string("Keywords, comma-separated."),
        "snippet": string("Opening text."),
        "language": string("Language code."),
        "locale": string("Country code of the edition."),
    }
)
ARTICLE_EXAMPLE = {
    "id": "4a1b6c2e-6f0a-4a1e-9d7c-1f0e2b3c4d5e", "title": "Markets rise after rate decision",
    "description": "Stocks gained after the central bank held rates.", "url": "https://news.example.com/markets",
    "image_url": "https://news.example.com/markets.jpg", "source": "news.example.com",
    "published_at": "2026-12-04T10:00:00Z", "categories": ["business"], "keywords": "markets, rates",
    "snippet": "Stocks gained on Thursday...", "language": "en", "locale": "us",
}

ENDPOINTS = [
    EndpointSpec(
        name="Headlines",
        description="Top headlines, optionally for a language, country edition and day.",
        request_schema=obj(
            {
                "language": string("Language codes, comma-separated, such as en,es. Default en.",
                                   pattern="^[a-z]{2}(,[a-z]{2})*$"),
                "locale": string("Country codes of the editions, comma-separated, such as us,ca.",
                                 pattern="^[a-z]{2}(,[a-z]{2})*$"),
                "date": string("Day of publication, YYYY-MM-DD.", pattern=r"^\d{4}-\d{2}-\d{2}$"),
            }
        ),
        response_schema=response({"articles": array(ARTICLE, "The headlines, newest first.")}),
        price_units=2_000,
        examples=[{"title": "US headlines in English", "request": {"language": "en", "locale": "us"},
                   "response": {"articles": [ARTICLE_EXAMPLE]}}],
    ),
]


def _article(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["uuid"],
        "title": item["title"],
        "description": item.get("description") or "",
        "url": item["url"],
        "image_url": item.get("image_url") or "",
        "source": item.get("source") or "",
        "published_at": item["published_at"][:19] + "Z",
        "categories": list(item.get("categories") or []),
        "keywords": item.get("keywords") or "",
        "snippet": item.get("snippet") or "",
        "language": item.get("language") or "",
        "locale": item.get("locale") or "",
    }


THENEWSAPI = Adapter(
    name="thenewsapi",
    title="TheNewsAPI",
    base_urls={"default": "https://api.thenewsapi.com"},
    auth=Auth(kind="query", name="api_token"),
    credential_help="The API token from your TheNewsAPI dashboard.",
    endpoints={
        "Headlines": Mapping(
            request=lambda body: ProviderRequest(
                path="/v1/news/top",
                params={"language": body.get("language", "en"), "locale": body.get("locale"),
                        "published_on": body.get("date")},
            ),
            response=lambda payload, body: {"articles": [_article(item) for item in payload["data"]]},
        )
    },
)

SERVICE = provider_service_register(
    service=ProviderService(slug="news", title="News", adapters=[THENEWSAPI], public_data=frozenset({"Headlines"})),
    spec={
        "name": "News",
        "tagline": "Top headlines from around the world.",
        "description": "Top news headlines with summaries and links, by language, country edition and day.",
        "category": "Data",
        "icon": "📰",
    },
    endpoints=ENDPOINTS,
)
