from __future__ import annotations

import secrets
import string
from typing import Any

from services.kit import BadRequest, CallContext

CHARACTER_SETS = {
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "numbers": string.digits,
    "special": "!@#$%^&*()-_=+[]{};:,.?/",
}


def generate(context: CallContext) -> dict[str, Any]:
    """Generate a password with at least one character of every chosen set, from the OS's CSPRNG."""
    # JSON Schema counts 16.0 as an integer, so convert before using it as a count.
    length = int(context.body.get("length", 16))
    chosen = [CHARACTER_SETS[name] for name in CHARACTER_SETS if context.body.get(name, True)]
    if not chosen:
        raise BadRequest(
            "All character sets are off. Set at least one of lowercase, uppercase, numbers or special to true.",
            error_id="password.no_character_set",
        )
    if length < len(chosen):
        raise BadRequest(
            f"A password with {len(chosen)} character sets needs a length of at least {len(chosen)}.",
            error_id="password.too_short",
            fields={"length": f"Must be at least {len(chosen)}."},
        )

    characters = [secrets.choice(charset) for charset in chosen]
    alphabet = "".join(chosen)
    characters += [secrets.choice(alphabet) for _ in range(length - len(chosen))]
    # Shuffle so the guaranteed characters do not always lead.
    secrets.SystemRandom().shuffle(characters)
    return {"password": "".join(characters)}
