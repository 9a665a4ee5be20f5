"""The file service through the gateway, and its public file route."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client, override_settings

from billing.models import Plan
from tests.conftest import Persona


def file(persona: Persona, endpoint: str, **body: object):
    return persona.call("file", endpoint, body=body)


def save(persona: Persona, project: str, path: str, content: str = "", public: bool = False, **extra: object):
    return file(persona, "Save", file={"project": project, "path": path, "content": content, **extra}, public=public)


def public_path(url: str) -> str:
    return urlsplit(url).path


def test_save_then_read(owner: Persona) -> None:
    saved = save(owner, "site", "/docs/readme.txt", "Hello", metadata={"author": "jane"})

    response = file(owner, "Read", project="site", path="/docs/readme.txt")

    assert saved.json() == {"url": ""}
    assert response.status_code == 200
    record = response.json()["file"]
    assert {name: record[name] for name in ("project", "path", "content", "metadata", "public", "url")} == {
        "project": "site",
        "path": "/docs/readme.txt",
        "content": "Hello",
        "metadata": {"author": "jane"},
        "public": False,
        "url": "",
    }


def test_path_without_leading_slash_is_the_same_file(owner: Persona) -> None:
    save(owner, "site", "docs/a.txt", "A")

    assert file(owner, "Read", project="site", path="/docs/a.txt").json()["file"]["path"] == "/docs/a.txt"


def test_save_replaces_content_and_keeps_created(owner: Persona) -> None:
    with time_machine.travel("2026-01-01 00:00:00Z", tick=False):
        save(owner, "site", "/a.txt", "one", metadata={"v": "1"})
    with time_machine.travel("2026-01-02 00:00:00Z", tick=False):
        save(owner, "site", "/a.txt", "two")

    record = file(owner, "Read", project="site", path="/a.txt").json()["file"]

    assert record["content"] == "two"
    assert record["metadata"] == {}
    assert record["created"].startswith("2026-01-01")
    assert record["updated"].startswith("2026-01-02")


def test_list_by_folder_without_content(owner: Persona) -> None:
    for path in ("/docs/b.txt", "/docs/a.txt", "/docs/sub/c.txt", "/docsx/d.txt", "/e.txt"):
        save(owner, "site", path, "content")
    save(owner, "other", "/docs/z.txt", "content")

    def listed(**body: object) -> list[str]:
        files = file(owner, "List", project="site", **body).json()["files"]
        assert all(record["content"] == "" for record in files)
        return [record["path"] for record in files]

    assert listed() == ["/docs/a.txt", "/docs/b.txt", "/docs/sub/c.txt", "/docsx/d.txt", "/e.txt"]
    assert listed(path="/docs") == ["/docs/a.txt", "/docs/b.txt", "/docs/sub/c.txt"]
    assert listed(path="docs/") == ["/docs/a.txt", "/docs/b.txt", "/docs/sub/c.txt"]
    assert listed(path="/docs/sub") == ["/docs/sub/c.txt"]
    assert listed(path="/") == listed(path="")
    assert listed(path="/docs", offset=1, limit=1) == ["/docs/b.txt"]
    assert listed(path="/nothing") == []


def test_list_folder_names_are_not_patterns(owner: Persona) -> None:
    for path in ("/a_b/1.txt", "/axb/2.txt", "/a%b/3.txt", "/a%bc/4.txt"):
        save(owner, "site", path)

    assert [record["path"] for record in file(owner, "List", project="site", path="/a_b").json()["files"]] == ["/a_b/1.txt"]
    assert [record["path"] for record in file(owner, "List", project="site", path="/a%b").json()["files"]] == ["/a%b/3.txt"]


def test_delete_removes_file(owner: Persona) -> None:
    save(owner, "site", "/a.txt", "A")

    assert file(owner, "Delete", project="site", path="/a.txt").json() == {}
    assert file(owner, "Read", project="site", path="/a.txt").status_code == 404


@pytest.mark.parametrize(
    ("project", "path"),
    [("a'b__c", "/x; DROP TABLE y.txt"), ("ü é", "/ü/é %_.txt"), ("1 == 1", "/a?b#c.txt"), ("p", "/back\\slash/x.txt")],
)
def test_names_with_odd_characters_round_trip_and_serve(owner: Persona, project: str, path: str) -> None:
    url = save(owner, project, path, "odd", public=True).json()["url"]

    assert file(owner, "Read", project=project, path=path).json()["file"]["content"] == "odd"
    assert [record["path"] for record in file(owner, "List", project=project).json()["files"]] == [path]
    assert Client().get(public_path(url)).content == b"odd"
    assert file(owner, "Delete", project=project, path=path).json() == {}


def test_missing_file_is_404_and_free(owner: Persona) -> None:
    save(owner, "site", "/a.txt")
    before = owner.balance

    for endpoint in ("Read", "Delete"):
        for project, path in (("site", "/b.txt"), ("other", "/a.txt")):
            response = file(owner, endpoint, project=project, path=path)
            assert response.status_code == 404
            assert response.json()["id"] == f"file.{endpoint.lower()}"
    assert owner.balance == before


def test_public_file_is_served_with_a_stable_url(owner: Persona) -> None:
    first = save(owner, "site", "/docs/notes.txt", "Hello", public=True).json()["url"]
    second = save(owner, "site", "/docs/notes.txt", "Hello again", public=True).json()["url"]
    other = save(owner, "blog", "/post.md", "# Title", public=True).json()["url"]

    response = Client().get(public_path(first))

    assert first == second
    assert first.startswith("http://127.0.0.1:8000/f/")
    assert first.endswith("/site/docs/notes.txt")
    assert other.split("/")[4] == first.split("/")[4]
    assert response.status_code == 200
    assert response.content == b"Hello again"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in response
    assert file(owner, "Read", project="site", path="/docs/notes.txt").json()["file"]["url"] == first
    assert Client().get(public_path(other))["Content-Type"] == "text/markdown; charset=utf-8"


@pytest.mark.parametrize("path", ["/index.html", "/a.svg", "/app.js", "/page.HTM", "/x.xml", "/noextension"])
def test_active_type_is_plain_text_download(owner: Persona, path: str) -> None:
    url = save(owner, "site", path, "<script>alert(document.cookie)</script>", public=True).json()["url"]

    response = Client().get(public_path(url))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_private_file_is_not_served(owner: Persona) -> None:
    url = save(owner, "site", "/a.txt", "public now", public=True).json()["url"]
    save(owner, "site", "/b.txt", "private")

    assert save(owner, "site", "/a.txt", "private now").json() == {"url": ""}
    assert Client().get(public_path(url)).status_code == 404
    assert Client().get(public_path(url).replace("/a.txt", "/b.txt")).status_code == 404
    assert file(owner, "Read", project="site", path="/a.txt").json()["file"]["url"] == ""


def test_public_route_finds_nothing_of_another_account(owner: Persona, outsider: Persona) -> None:
    owner_url = save(owner, "site", "/a.txt", "owner's", public=True).json()["url"]
    outsider_url = save(outsider, "site", "/b.txt", "outsider's", public=True).json()["url"]
    owner_space = owner_url.split("/")[4]

    assert owner_space != outsider_url.split("/")[4]
    assert Client().get(public_path(outsider_url).replace("/b.txt", "/a.txt")).status_code == 404
    assert Client().get(f"/f/{owner_space}/site/b.txt").status_code == 404
    assert Client().get("/f/nosuchspace/site/a.txt").status_code == 404


def test_public_route_rejects_post_and_answers_head(owner: Persona) -> None:
    url = public_path(save(owner, "site", "/a.txt", "A", public=True).json()["url"])

    assert Client().post(url).status_code == 405
    assert Client().head(url).status_code == 200


def test_deleted_public_file_is_gone(owner: Persona) -> None:
    url = save(owner, "site", "/a.txt", "A", public=True).json()["url"]

    file(owner, "Delete", project="site", path="/a.txt")

    assert Client().get(public_path(url)).status_code == 404


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_row_limit_is_403_but_replacing_fits(owner: Persona) -> None:
    save(owner, "site", "/a.txt", "A")

    response = save(owner, "site", "/b.txt", "B")

    assert response.status_code == 403
    assert response.json()["id"] == "file.row_limit"
    assert save(owner, "site", "/a.txt", "replaced").status_code == 200


def test_byte_limit_is_403_counting_utf8_bytes(owner: Persona) -> None:
    Plan.objects.create(name="Tiny", slug="tiny", storage_cap_mb=1, is_default=True)
    save(owner, "site", "/a.txt", "x" * 600_000)

    over = save(owner, "site", "/b.txt", "x" * 500_000)
    grow = save(owner, "site", "/a.txt", "x" * 900_000)
    # 100,000 characters, but 200,000 bytes of UTF-8: over the cap.
    wide = save(owner, "site", "/b.txt", "é" * 100_000)

    assert over.status_code == 403
    assert over.json()["id"] == "file.storage_limit"
    assert grow.status_code == 200
    assert wide.status_code == 403
    assert save(owner, "site", "/a.txt", "small").status_code == 200
    assert save(owner, "site", "/b.txt", "é" * 100_000).status_code == 200


@pytest.mark.parametrize(
    ("file_fields", "field"),
    [({"content": "nul\x00"}, "file.content"), ({"metadata": {"k": "\ud800"}}, "file.metadata.k")],
)
def test_unstorable_text_is_400_naming_the_field(owner: Persona, file_fields: dict, field: str) -> None:
    response = owner.call("file", "Save", body={"file": {"project": "p", "path": "/x.txt", **file_fields}})

    assert response.status_code == 400
    assert response.json()["id"] == "v1.bad_json"
    assert list(response.json()["fields"]) == [field]


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("Save", {"file": {"project": "a/b", "path": "/x.txt"}}, "project"),
        ("Save", {"file": {"project": "..", "path": "/x.txt"}}, "project"),
        ("Save", {"file": {"project": "p\n", "path": "/x.txt"}}, "project"),
        ("Save", {"file": {"project": "p", "path": "/"}}, "path"),
        ("Save", {"file": {"project": "p", "path": "/a//b.txt"}}, "path"),
        ("Save", {"file": {"project": "p", "path": "/a/../b.txt"}}, "path"),
        ("Save", {"file": {"project": "p", "path": "/a/./b.txt"}}, "path"),
        ("Save", {"file": {"project": "p", "path": "/docs/"}}, "path"),
        ("Save", {"file": {"project": "p", "path": "/a\tb.txt"}}, "path"),
        ("Save", {"file": {"project": "p", "path": "x" * 400}}, "path"),
        ("Read", {"project": "p", "path": "/../x.txt"}, "path"),
        ("List", {"project": "p", "path": "/a//b"}, "path"),
        ("List", {"project": "a/b"}, "project"),
        ("Delete", {"project": "p", "path": "/a/.."}, "path"),
    ],
)
def test_invalid_name_is_400_naming_the_field(owner: Persona, endpoint: str, body: dict, field: str) -> None:
    save(owner, "p", "/x.txt", "kept")

    response = owner.call("file", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == f"file.{endpoint.lower()}"
    assert list(response.json()["fields"]) == [field]
    assert file(owner, "Read", project="p", path="/x.txt").json()["file"]["content"] == "kept"


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Save", {}),
        ("Save", {"project": "p", "path": "/x.txt", "content": "flat"}),
        ("Save", {"file": {"path": "/x.txt"}}),
        ("Save", {"file": {"project": "p"}}),
        ("Save", {"file": {"project": "", "path": "/x.txt"}}),
        ("Save", {"file": {"project": "p", "path": ""}}),
        ("Save", {"file": {"project": "p", "path": "/x.txt", "content": 5}}),
        ("Save", {"file": {"project": "p", "path": "/x.txt", "metadata": {"k": 1}}}),
        ("Save", {"file": {"project": "p", "path": "/x.txt"}, "public": "yes"}),
        ("Save", {"file": {"project": "p" * 101, "path": "/x.txt"}}),
        ("Read", {"project": "p"}),
        ("Read", {"path": "/x.txt"}),
        ("List", {}),
        ("List", {"project": "p", "limit": 0}),
        ("List", {"project": "p", "offset": -1}),
        ("Delete", {"project": "p", "path": 1}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    save(owner, "p", "/x.txt", "kept")
    before = owner.balance

    response = owner.call("file", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before
    assert file(owner, "Read", project="p", path="/x.txt").json()["file"]["content"] == "kept"


def test_purge_account_deletes_files_and_public_urls(owner: Persona, outsider: Persona) -> None:
    from services.builtin.file.models import FileSpace, StoredFile
    from services.registry import purge_account

    url = save(owner, "site", "/a.txt", "A", public=True).json()["url"]
    save(outsider, "site", "/a.txt", "A", public=True)

    purge_account(owner.account.pk)

    assert not StoredFile.objects.filter(account_id=owner.account.pk).exists()
    assert not FileSpace.objects.filter(account_id=owner.account.pk).exists()
    assert StoredFile.objects.filter(account_id=outsider.account.pk).count() == 1
    assert Client().get(public_path(url)).status_code == 404
