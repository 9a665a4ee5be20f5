"""Reading the API key from a request's Authorization header."""

from __future__ import annotations

import base64
import binascii


def key_from_authorization(header: str) -> str | None:
    """Return the key from ``Bearer <key>`` or HTTP Basic with the key as password.

    Basic with an empty password takes the key from the user name, as curl's
    ``-u KEY:`` sends it. Returns None when the header carries no key.
    """
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if not credentials:
        return None
    scheme = scheme.lower()
    if scheme == "bearer":
        return credentials
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return password or user or None
    return None
