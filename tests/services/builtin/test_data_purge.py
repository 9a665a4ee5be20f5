"""Closing an account deletes what it stored in the lists, comments, contact and file services."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.test import Client

from services.builtin.comments.models import Comment
from services.builtin.contact.models import Contact
from services.builtin.file.models import FileSpace, StoredFile
from services.builtin.lists.models import ItemList
from tests.accounts.test_settings import signed_in_client
from tests.conftest import Persona
from tests.services.builtin.isolation_cases import ok


def test_closing_account_deletes_its_data(owner: Persona, outsider: Persona) -> None:
    urls = {}
    for persona in (owner, outsider):
        ok(persona, "lists", "Create", {"id": "l", "name": "n"})
        ok(persona, "comments", "Create", {"id": "c", "text": "t"})
        ok(persona, "contact", "Create", {"id": "c", "name": "n"})
        body = {"file": {"project": "p", "path": "/a.txt", "content": "A"}, "public": True}
        urls[persona.user.email] = urlsplit(ok(persona, "file", "Save", body)["url"]).path

    response = signed_in_client(owner).post("/settings/delete/", {"confirmation": "delete my account"})

    assert response.status_code == 302
    for model in (ItemList, Comment, Contact, StoredFile, FileSpace):
        assert not model.objects.filter(account_id=owner.account.pk).exists(), model
        assert model.objects.filter(account_id=outsider.account.pk).count() == 1, model
    assert Client().get(urls[owner.user.email]).status_code == 404
    assert Client().get(urls[outsider.user.email]).status_code == 200
