"""Encryption at rest for secrets an operator stores, such as upstream credentials.

Values are Fernet tokens (AES-128-CBC with HMAC-SHA256, from the
``cryptography`` package). The key comes from M3O_FIELD_ENCRYPTION_KEY, or is
derived from SECRET_KEY when that is not set.

NOTE: there is one key and no rotation. Changing M3O_FIELD_ENCRYPTION_KEY (or
SECRET_KEY while it is unset) makes every stored credential unreadable: the
gateway then returns 502 for those upstream services until an operator enters
each credential again in admin.
"""

from __future__ import annotations

import base64
import binascii
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class DecryptionFailed(Exception):
    """A stored value cannot be decrypted with the current key."""


def _derive(secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"m3o field encryption")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8")))


def _is_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode("ascii"))) == 32
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False


@cache
def _fernet(secret: str) -> Fernet:
    # A generated Fernet key is used as it is; any other text is stretched into one.
    return Fernet(secret.encode("ascii") if _is_fernet_key(secret) else _derive(secret))


def _current() -> Fernet:
    return _fernet(settings.M3O_FIELD_ENCRYPTION_KEY or settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionFailed("The stored value was encrypted with another key.") from exc
