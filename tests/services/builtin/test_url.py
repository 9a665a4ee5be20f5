"""The url service through the gateway, and its public redirect route."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.conftest import Persona


def url(persona: Persona, endpoint: str, **body: object):
    return persona.call("url", endpoint, body=body)


def test_shorten_then_redirect_counts_hits(owner: Persona) -> None:
    link = url(owner, "Shorten", destinationURL="https://example.com/page?a=1").json()["url"]

    first = Client().get(f"/u/{link['id']}")
    second = Client().get(f"/u/{link['id']}")

    assert link["shortURL"].endswith(f"/u/{link['id']}")
    assert first.status_code == 302
    assert first["Location"] == "https://example.com/page?a=1"
    assert second.status_code == 302
    assert url(owner, "Resolve", id=link["id"]).json()["url"]["hits"] == 2


def test_redirect_of_unknown_id_is_404(db: None) -> None:
    assert Client().get("/u/nothing").status_code == 404


def test_redirect_rejects_post(owner: Persona) -> None:
    url(owner, "Create", id="docs", destinationURL="https://example.com/")

    assert Client().post("/u/docs").status_code == 405


def test_create_with_custom_id(owner: Persona) -> None:
    link = url(owner, "Create", id="my-link_1", destinationURL="http://example.com/").json()["url"]

    assert link["id"] == "my-link_1"
    assert link["hits"] == 0
    assert Client().get("/u/my-link_1")["Location"] == "http://example.com/"


def test_create_without_id_generates_one(owner: Persona) -> None:
    link = url(owner, "Create", destinationURL="https://example.com/").json()["url"]

    assert len(link["id"]) == 8


def test_taken_id_is_400(owner: Persona, outsider: Persona) -> None:
    url(owner, "Create", id="docs", destinationURL="https://example.com/")

    for persona in (owner, outsider):
        response = url(persona, "Create", id="docs", destinationURL="https://evil.example/")
        assert response.status_code == 400
        assert response.json()["id"] == "url.create"
    assert Client().get("/u/docs")["Location"] == "https://example.com/"


def test_update_changes_destination(owner: Persona) -> None:
    url(owner, "Create", id="docs", destinationURL="https://example.com/")

    link = url(owner, "Update", id="docs", destinationURL="https://example.com/v2").json()["url"]

    assert link["destinationURL"] == "https://example.com/v2"
    assert Client().get("/u/docs")["Location"] == "https://example.com/v2"


def test_delete_frees_id(owner: Persona, outsider: Persona) -> None:
    url(owner, "Create", id="docs", destinationURL="https://example.com/")

    assert url(owner, "Delete", id="docs").json() == {"id": "docs"}
    assert Client().get("/u/docs").status_code == 404
    assert url(outsider, "Create", id="docs", destinationURL="https://example.org/").status_code == 200


def test_list_newest_first(owner: Persona) -> None:
    for short_id in ("one", "two", "three"):
        url(owner, "Create", id=short_id, destinationURL="https://example.com/")

    listed = [link["id"] for link in url(owner, "List").json()["urls"]]
    page = [link["id"] for link in url(owner, "List", offset=1, limit=1).json()["urls"]]

    assert sorted(listed) == ["one", "three", "two"]
    assert len(page) == 1


def test_missing_link_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint, body in (
        ("Resolve", {"id": "nothing"}),
        ("Update", {"id": "nothing", "destinationURL": "https://example.com/"}),
        ("Delete", {"id": "nothing"}),
    ):
        response = owner.call("url", endpoint, body=body)
        assert response.status_code == 404
        assert response.json()["id"] == f"url.{endpoint.lower()}"
    assert owner.balance == before


@pytest.mark.parametrize(
    "destination",
    [
        "javascript:alert(1)",
        "ftp://example.com/file",
        "data:text/html,hi",
        "file:///etc/passwd",
        "//example.com/path",
        "example.com",
        "https://",
        "https://exa mple.com/",
        "https://example.com/\nSet-Cookie: a=b",
    ],
)
def test_non_http_destination_is_400(owner: Persona, destination: str) -> None:
    for endpoint, body in (
        ("Shorten", {"destinationURL": destination}),
        ("Create", {"id": "abc", "destinationURL": destination}),
    ):
        response = owner.call("url", endpoint, body=body)
        assert response.status_code == 400
        assert response.json()["id"] == f"url.{endpoint.lower()}"
        assert "destinationURL" in response.json()["fields"]


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_row_limit_is_403(owner: Persona) -> None:
    url(owner, "Shorten", destinationURL="https://example.com/")

    for endpoint in ("Shorten", "Create"):
        response = owner.call("url", endpoint, body={"destinationURL": "https://example.com/"})
        assert response.status_code == 403
        assert response.json()["id"] == "url.row_limit"


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Shorten", {}),
        ("Shorten", {"destinationURL": ""}),
        ("Shorten", {"destinationURL": "https://example.com/" + "a" * 2048}),
        ("Create", {"id": "ab", "destinationURL": "https://example.com/"}),
        ("Create", {"id": "a/b", "destinationURL": "https://example.com/"}),
        ("Create", {"id": "a'b", "destinationURL": "https://example.com/"}),
        ("Resolve", {}),
        ("Update", {"id": "docs"}),
        ("Delete", {"id": 5}),
        ("List", {"limit": 1001}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("url", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_purge_account_deletes_links(owner: Persona, outsider: Persona) -> None:
    from services.builtin.url.models import ShortURL
    from services.registry import purge_account

    url(owner, "Create", id="mine", destinationURL="https://example.com/")
    url(outsider, "Create", id="theirs", destinationURL="https://example.com/")

    purge_account(owner.account.pk)

    assert not ShortURL.objects.filter(account_id=owner.account.pk).exists()
    assert ShortURL.objects.filter(account_id=outsider.account.pk).count() == 1
