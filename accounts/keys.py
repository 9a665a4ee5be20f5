"""API key format: ``m3o_``, 34 random base62 characters, a 6-character checksum.

The fixed prefix lets secret scanners recognise leaked keys. The checksum
(CRC-32 of the random part, in base62) lets the gateway reject a mistyped or
made-up key without a database query. Only the SHA-256 of a key is stored, so
a key is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import zlib

KEY_PREFIX = "m3o_"
RANDOM_LENGTH = 34  # about 202 bits of entropy
CHECKSUM_LENGTH = 6  # 62**6 > 2**32, so any CRC-32 fits
KEY_LENGTH = len(KEY_PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
VISIBLE_PREFIX_LENGTH = len(KEY_PREFIX) + 8
_ALPHABET = string.digits + string.ascii_letters
_ALPHABET_SET = frozenset(_ALPHABET)


def _checksum(random_part: str) -> str:
    value = zlib.crc32(random_part.encode())
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, remainder = divmod(value, len(_ALPHABET))
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits))


def generate_key() -> str:
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(RANDOM_LENGTH))
    return KEY_PREFIX + random_part + _checksum(random_part)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    """Check the format and checksum, so that only plausible keys reach the database."""
    if len(value) != KEY_LENGTH or not value.startswith(KEY_PREFIX):
        return False
    body = value[len(KEY_PREFIX) :]
    if not _ALPHABET_SET.issuperset(body):
        return False
    random_part, checksum = body[:RANDOM_LENGTH], body[RANDOM_LENGTH:]
    return secrets.compare_digest(_checksum(random_part), checksum)
