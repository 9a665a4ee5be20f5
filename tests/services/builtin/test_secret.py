"""The secret service through the gateway."""

from __future__ import annotations

import pytest
from django.test import override_settings

from services.builtin.secret.models import Secret
from tests.conftest import Persona


def secret(persona: Persona, endpoint: str, **body: object):
    return persona.call("secret", endpoint, body=body)


def test_set_then_get(owner: Persona) -> None:
    assert secret(owner, "Set", key="token", value="s3cr3t").json() == {"key": "token"}

    response = secret(owner, "Get", key="token")

    assert response.status_code == 200
    assert response.json() == {"key": "token", "value": "s3cr3t"}


def test_value_is_encrypted_at_rest(owner: Persona) -> None:
    secret(owner, "Set", key="token", value="plain-value-123")

    stored = Secret.objects.get(account_id=owner.account.pk, key="token").value_encrypted

    assert "plain-value-123" not in stored
    assert stored.startswith("gAAAA")


def test_set_replaces_value(owner: Persona) -> None:
    secret(owner, "Set", key="token", value="one")
    secret(owner, "Set", key="token", value="two")

    assert secret(owner, "Get", key="token").json()["value"] == "two"
    assert Secret.objects.filter(account_id=owner.account.pk).count() == 1


def test_list_returns_keys_without_values(owner: Persona) -> None:
    for key in ("b", "a", "it's__.x"):
        secret(owner, "Set", key=key, value="v")

    assert secret(owner, "List").json() == {"keys": ["a", "b", "it's__.x"]}


def test_delete_removes_secret(owner: Persona) -> None:
    secret(owner, "Set", key="token", value="v")

    assert secret(owner, "Delete", key="token").json() == {"key": "token"}
    assert secret(owner, "Get", key="token").status_code == 404


def test_missing_secret_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint in ("Get", "Delete"):
        response = secret(owner, endpoint, key="nothing")
        assert response.status_code == 404
        assert response.json()["id"] == f"secret.{endpoint.lower()}"
    assert owner.balance == before


def test_value_under_another_key_is_503(owner: Persona) -> None:
    secret(owner, "Set", key="token", value="v")
    Secret.objects.filter(account_id=owner.account.pk).update(value_encrypted="gAAAAAnot-a-token")

    response = secret(owner, "Get", key="token")

    assert response.status_code == 503
    assert response.json()["id"] == "secret.decryption_failed"


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_row_limit_is_403(owner: Persona) -> None:
    secret(owner, "Set", key="a", value="v")

    assert secret(owner, "Set", key="a", value="w").status_code == 200
    response = secret(owner, "Set", key="b", value="v")
    assert response.status_code == 403
    assert response.json()["id"] == "secret.row_limit"


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Set", {"key": "a"}),
        ("Set", {"value": "v"}),
        ("Set", {"key": "", "value": "v"}),
        ("Set", {"key": "a", "value": 1}),
        ("Set", {"key": "a", "value": "v" * 65_537}),
        ("Get", {}),
        ("Delete", {"key": 1}),
        ("List", {"key": "a"}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    before = owner.balance

    response = owner.call("secret", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_purge_account_deletes_secrets(owner: Persona, outsider: Persona) -> None:
    from services.registry import purge_account

    secret(owner, "Set", key="a", value="v")
    secret(outsider, "Set", key="a", value="v")

    purge_account(owner.account.pk)

    assert not Secret.objects.filter(account_id=owner.account.pk).exists()
    assert Secret.objects.filter(account_id=outsider.account.pk).count() == 1
