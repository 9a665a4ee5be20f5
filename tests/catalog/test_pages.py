"""The explore page and the service page as a visitor sees them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalog.models import Category, Endpoint, Service
from catalog.reference import schema_fields, snippets
from catalog.services import endpoint_price_schedule

pytestmark = pytest.mark.django_db


def make_services(count: int, category: Category | None = None, prefix: str = "svc") -> None:
    for number in range(count):
        Service.objects.create(
            slug=f"{prefix}{number:02d}", name=f"{prefix.title()} {number:02d}", tagline="A test service.",
            status=Service.Status.PUBLISHED, category=category,
        )


def test_explore_filters_by_category() -> None:
    maps = Category.objects.create(slug="maps", name="Maps")
    make_services(2, maps, prefix="map")

    page = Client().get("/explore/", {"category": "maps"}).content.decode()

    assert "Map 00" in page
    assert "Hello World" not in page
    assert '<option value="maps" selected>' in page


def test_explore_paginates_and_keeps_filters_in_links() -> None:
    make_services(14)

    first = Client().get("/explore/", {"q": "svc"}).content.decode()
    second = Client().get("/explore/", {"q": "svc", "page": 2}).content.decode()

    assert "14 services" in first
    assert 'href="?q=svc&amp;page=2"' in first
    assert "Svc 13" in second
    assert "Svc 00" not in second


def test_explore_search_pushes_url() -> None:
    page = Client().get("/explore/").content.decode()
    assert 'hx-push-url="true"' in page


@pytest.mark.parametrize(
    ("params", "message"),
    [({"category": "nosuch"}, "No such category"), ({"category": "a b"}, "No such category"),
     ({"page": "x"}, "Invalid page number"), ({"page": "0"}, "Invalid page number")],
)
def test_explore_bad_filters_are_400_not_500(params: dict[str, str], message: str) -> None:
    response = Client().get("/explore/", params)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_explore_page_past_end_shows_last_page() -> None:
    assert Client().get("/explore/", {"page": 999}).status_code == 200


def test_service_page_has_reference_pricing_snippets_and_links() -> None:
    page = Client().get("/explore/helloworld/").content.decode()

    assert re.search(r"<td><code>name</code></td><td>string</td><td>yes</td><td>The name to greet.</td>", page)
    assert re.search(r'id="pricing".*?\$0\.001000.*?\(1000 units\)', page, re.S)
    for language in ("curl", "python", "javascript", "go", "cli"):
        assert f"snippet-{language}" in page
    assert "m3o helloworld call --name=Alice" in page
    assert 'href="/playground/helloworld/Call"' in page
    assert 'href="/explore/helloworld/openapi.json?download"' in page


def test_service_page_shows_scheduled_price_only_when_in_effect() -> None:
    from datetime import timedelta

    from django.utils import timezone

    endpoint = Endpoint.objects.get(service__slug="helloworld", name="Call")
    endpoint_price_schedule(endpoint=endpoint, price_units=5, effective_from=timezone.now() + timedelta(days=1), created_by=None)

    assert "(1000 units)" in Client().get("/explore/helloworld/").content.decode()


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<img src=x onerror="alert(1)">',
        "[click](JaVaScRiPt:alert(1))",
    ],
)
def test_markdown_renders_inert(markdown: str) -> None:
    Service.objects.filter(slug="helloworld").update(description=f"Intro\n\n{markdown}")

    page = Client().get("/explore/helloworld/").content.decode()
    prose = page.split('<div class="prose">', 1)[1].split("</div>", 1)[0]

    assert "<script" not in prose
    assert "javascript:" not in prose.lower()
    assert "onerror" not in prose


def test_schema_fields_flatten_nested_objects() -> None:
    schema = {
        "type": "object",
        "properties": {
            "user": {"type": "object", "properties": {"email": {"type": "string", "description": "Address."}}},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["user"],
    }

    rows = [(field.name, field.type, field.required) for field in schema_fields(schema)]

    assert rows == [("user", "object", True), ("user.email", "string", False), ("tags", "array of string", False)]


def test_snippets_quote_shell_and_go_strings() -> None:
    code = snippets(base_url="http://h", service="s", endpoint="Call", request={"text": "it's `x`"})

    assert "-d '{\"text\": \"it'\"'\"'s `x`\"}'" in code["curl"]
    assert 'strings.NewReader("{\\"text\\": \\"it\'s `x`\\"}")' in code["go"]
    assert "--text='it'\"'\"'s `x`'" in code["cli"]
    assert "client.call('s', 'Call', {'text': \"it's `x`\"})" in code["python"]


def test_python_snippet_uses_the_typed_client_method_when_fields_are_known() -> None:
    code = snippets(
        base_url="http://h", service="url", endpoint="ListKeys", request={"destinationURL": "x", "class": 1},
        fields=["destinationURL", "class"],
    )

    assert "from m3o import Client" in code["python"]
    assert 'Client(os.environ["M3O_API_TOKEN"], address="http://h")' in code["python"]
    assert "client.url.list_keys(destinationURL='x', class_=1)" in code["python"]
    assert code["cli"] == "m3o url list-keys --destination-url=x --class=1"
