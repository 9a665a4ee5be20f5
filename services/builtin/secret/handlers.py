from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction
from django.db.models import QuerySet

from catalog.crypto import DecryptionFailed, decrypt, encrypt
from services.builtin.quota import check_room
from services.builtin.secret.models import Secret
from services.kit import CallContext, NotFound, ServiceUnavailable

logger = structlog.get_logger(__name__)


def _error_id(context: CallContext) -> str:
    return f"secret.{context.endpoint.lower()}"


def _secrets(context: CallContext) -> QuerySet[Secret]:
    return Secret.objects.filter(account_id=context.account_id)


def _missing(context: CallContext) -> NotFound:
    return NotFound(f"No secret with key {context.body['key'][:100]!r}.", error_id=_error_id(context))


def set_secret(context: CallContext) -> dict[str, Any]:
    """Store a value under a key, encrypted, replacing any earlier value."""
    key = context.body["key"]
    value_encrypted = encrypt(context.body["value"])

    with transaction.atomic():
        if not _secrets(context).filter(key=key).exists():
            check_room(account_id=context.account_id, service="secret", stored=_secrets(context).count())
        Secret.objects.update_or_create(
            account_id=context.account_id, key=key, defaults={"value_encrypted": value_encrypted}
        )
    return {"key": key}


def get_secret(context: CallContext) -> dict[str, Any]:
    secret = _secrets(context).filter(key=context.body["key"]).first()
    if secret is None:
        raise _missing(context)
    try:
        value = decrypt(secret.value_encrypted)
    except DecryptionFailed:
        logger.error("Secret not decrypted", account_id=context.account_id, secret_id=secret.pk)
        raise ServiceUnavailable(
            "The secret cannot be decrypted because the server's encryption key changed. "
            "Set the secret again, or ask the operator to restore the key.",
            error_id="secret.decryption_failed",
        ) from None
    return {"key": secret.key, "value": value}


def delete_secret(context: CallContext) -> dict[str, Any]:
    deleted, _ = _secrets(context).filter(key=context.body["key"]).delete()
    if not deleted:
        raise _missing(context)
    return {"key": context.body["key"]}


def list_secrets(context: CallContext) -> dict[str, Any]:
    """List the keys, sorted; values are returned only by Get."""
    return {"keys": list(_secrets(context).order_by("key").values_list("key", flat=True))}


def purge_account(account_id: int) -> None:
    Secret.objects.filter(account_id=account_id).delete()
