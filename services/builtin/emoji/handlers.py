from __future__ import annotations

from typing import Any

import emoji

from services.kit import BadRequest, CallContext

# Regional indicator symbol letter A. A flag is two regional indicators, one per letter of the ISO 3166-1 code.
REGIONAL_INDICATOR_A = 0x1F1E6


def find(context: CallContext) -> dict[str, Any]:
    alias = context.body["alias"].strip().strip(":")
    found = emoji.emojize(f":{alias}:", language="alias")
    if not alias or found == f":{alias}:":
        raise BadRequest(
            f"Unknown emoji alias {context.body['alias']!r}. Use a GitHub or Unicode CLDR alias such as thumbsup.",
            error_id="emoji.unknown_alias",
            fields={"alias": "Unknown emoji alias."},
        )
    return {"emoji": found}


def flag(context: CallContext) -> dict[str, Any]:
    code = context.body["code"].upper()
    found = ""
    if code.isascii() and code.isalpha():
        found = "".join(chr(REGIONAL_INDICATOR_A + ord(letter) - ord("A")) for letter in code)
    # Any two regional indicators render as letters, so only the pairs Unicode defines as flags are accepted.
    if not emoji.is_emoji(found):
        raise BadRequest(
            f"No flag emoji exists for {context.body['code']!r}. Use an ISO 3166-1 alpha-2 country code such as GB.",
            error_id="emoji.unknown_flag",
            fields={"code": "No flag emoji for this code."},
        )
    return {"flag": found}


def print_text(context: CallContext) -> dict[str, Any]:
    """Replace every :alias: in the text with its emoji, leaving unknown aliases as typed."""
    return {"text": emoji.emojize(context.body["text"], language="alias")}
