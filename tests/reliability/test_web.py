"""Web-facing attacks on the dashboard: CSRF, session fixation, clickjacking, open redirects and XSS."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from accounts.models import Account, ApiKey
from accounts.services import api_key_create
from accounts.teams import team_create
from catalog.models import Endpoint, Service
from catalog.services import endpoint_price_schedule
from tests.conftest import Persona
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"  # the factories' password
XSS = '<img src=x onerror="window.__xss=1">'
ESCAPED = "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;"

# Views that take no browser session: API keys, Stripe signatures or nothing at all.
CSRF_EXEMPT = {"gateway", "billing_stripe_webhook", "bench_echo"}
# The keyless catalog API only reads; a POST to it is 405 and changes nothing.
READ_ONLY_API = {"api_category_list", "api_service_detail", "api_service_list"}
# allauth exempts this one from CSRF; with no Google client configured it is a 404.
UNCONFIGURED_PROVIDER = {"google_login_by_token"}
SAMPLE = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def route_urls() -> list[tuple[str, str]]:
    """Return (name, sample URL) for every named route, with sample values for its parameters."""
    found: list[tuple[str, str]] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if not isinstance(pattern.pattern, RoutePattern):
                continue
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and pattern.name:
                url = re.sub(r"<(?:(\w+):)?\w+>", lambda match: SAMPLE.get(match.group(1) or "str", "x"), route)
                found.append((pattern.name, "/" + url))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def test_every_post_without_a_csrf_token_is_refused(owner: Persona) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    keys_before = ApiKey.objects.count()
    routes = route_urls()
    wrong = []

    for name, url in routes:
        if name in CSRF_EXEMPT:
            continue
        response = client.post(url, {"name": "forged", "email": "x@example.com", "account": owner.account.pk})
        if name in READ_ONLY_API:
            expected_ok = response.status_code == 405
        elif name in UNCONFIGURED_PROVIDER:
            expected_ok = response.status_code == 404
        else:
            expected_ok = response.status_code == 403 and b"CSRF" in response.content
        if not expected_ok:
            wrong.append((name, url, response.status_code))

    assert len(routes) > 100
    assert wrong == []
    assert ApiKey.objects.count() == keys_before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/accounts/github/login/"),
        ("get", "/accounts/github/login/callback/?code=x&state=y"),
        ("get", "/accounts/google/login/"),
        ("post", "/accounts/google/login/token/"),
    ],
)
def test_unconfigured_sign_in_providers_are_404(db: None, method: str, path: str) -> None:
    response = getattr(Client(), method)(path)

    assert response.status_code == 404


def test_sign_in_gives_a_new_session_key(db: None) -> None:
    user = UserFactory(email="fixation@example.com")
    client = Client()
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    planted_key = session.session_key
    client.cookies["sessionid"] = planted_key

    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert client.cookies["sessionid"].value != planted_key


@pytest.mark.parametrize("path", ["/", "/explore/", "/dashboard/", "/keys/", "/accounts/login/", "/admin/login/"])
def test_pages_cannot_be_framed(owner: Persona, path: str) -> None:
    response = owner.client.get(path)

    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(db: None, target: str) -> None:
    user = UserFactory(email="redirect@example.com")

    response = Client().post(f"/accounts/login/?next={target}", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_account_switch_never_redirects_off_site(owner: Persona, target: str) -> None:
    response = owner.client.post("/teams/switch/", {"account": owner.account.pk, "next": target})

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_user_text_is_escaped_on_every_page(owner: Persona) -> None:
    api_key_create(account=owner.account, name=XSS, scopes=[ApiKey.ALL_SERVICES], created_by=owner.user)
    team_create(user=owner.user, name=XSS)
    service = Service.objects.create(
        slug="evil", name=XSS, tagline=XSS, status=Service.Status.PUBLISHED, backend=Service.Backend.UPSTREAM
    )
    endpoint = Endpoint.objects.create(service=service, name="Call", description=XSS, request_schema={"type": "object"})
    endpoint_price_schedule(endpoint=endpoint, price_units=1, effective_from=None, created_by=None)

    for path in ("/keys/", "/teams/", "/explore/", "/explore/evil/", "/playground/evil/Call", "/dashboard/"):
        page = owner.client.get(path).content.decode()
        assert XSS not in page, path
    assert ESCAPED in owner.client.get("/keys/").content.decode()
    assert Account.objects.filter(name=XSS).exists()
