"""API key format: ``m3o_`` followed by 40 base62 characters.

The fixed prefix lets secret scanners recognise leaked keys. Only the SHA-256
of a key is stored, so a key is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import secrets
import string

KEY_PREFIX = "m3o_"
KEY_BODY_LENGTH = 40
VISIBLE_PREFIX_LENGTH = len(KEY_PREFIX) + 8
_ALPHABET = string.ascii_letters + string.digits


def generate_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_BODY_LENGTH))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    return (
        value.startswith(KEY_PREFIX)
        and len(value) == len(KEY_PREFIX) + KEY_BODY_LENGTH
        and all(char in _ALPHABET for char in value[len(KEY_PREFIX) :])
    )
