"""Deleting an account in settings deletes what it stored in the wallet, user, location and search services."""

from __future__ import annotations

from services.builtin.location.models import Entity
from services.builtin.search.models import SearchDocument, SearchField, SearchIndex
from services.builtin.user.models import EndUser, EndUserSession
from services.builtin.wallet.models import EndUserWallet, WalletOperation, WalletTransaction
from tests.accounts.test_settings import signed_in_client
from tests.conftest import Persona

MODELS = (EndUserWallet, WalletTransaction, WalletOperation, EndUser, EndUserSession, Entity, SearchIndex, SearchDocument, SearchField)


def store_everything(persona: Persona) -> None:
    calls = [
        ("wallet", "Create", {"id": "w"}),
        ("wallet", "Credit", {"id": "w", "amount": 5, "idempotency_key": "k"}),
        ("user", "Create", {"username": "alice", "email": "alice@example.com", "password": "alice passphrase"}),
        ("user", "Login", {"username": "alice", "password": "alice passphrase"}),
        ("location", "Save", {"entity": {"id": "e", "location": {"latitude": 1, "longitude": 2}}}),
        ("search", "Index", {"index": "i", "id": "d", "data": {"t": "hello"}}),
    ]
    for service, endpoint, body in calls:
        assert persona.call(service, endpoint, body=body).status_code == 200, (service, endpoint)


def test_account_deletion_purges_data(owner: Persona, outsider: Persona, settings) -> None:
    # A fast hasher for the end users; the platform users' passwords still verify with the second one.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    store_everything(owner)
    store_everything(outsider)

    response = signed_in_client(owner).post("/settings/delete/", {"confirmation": "delete my account"})

    assert response.status_code == 302
    for model in MODELS:
        assert not model.objects.filter(account_id=owner.account.pk).exists(), model.__name__
        assert model.objects.filter(account_id=outsider.account.pk).exists(), model.__name__
