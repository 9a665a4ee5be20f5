"""The search query language: terms, optionally per field, combined with AND and OR.

    london                     any field contains the word
    "new york"                 any field contains the words in this order
    city:london                the field city (or any field under it, city.*) contains the word
    address.city:"new york"    a nested field, a phrase
    name:jane age:30           both terms (AND binds the terms of a group; the word AND is optional)
    city:london OR city:paris  either group
    jan*  name:"new yo"*       the last word is a prefix (jan matches jane and january)

Words are runs of letters and digits, matched case-insensitively as whole words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.builtin.search.fulltext import words

MAX_TERMS = 20

TOKEN = re.compile(
    r"""\s*(?:
        (?P<field>[^\s:"]+):(?:"(?P<field_quoted>[^"]*)"(?P<field_quoted_prefix>\*)?|(?P<field_bare>[^\s"]+))
      | "(?P<quoted>[^"]*)"(?P<quoted_prefix>\*)?
      | (?P<bare>[^\s"]+)
    )""",
    re.VERBOSE,
)


class QueryError(ValueError):
    """Raised for a query that cannot be parsed, with a message for the caller that explains why."""


@dataclass(frozen=True)
class Term:
    field: str | None
    words: tuple[str, ...]
    # Whether the last word matches as a prefix of a longer word.
    prefix: bool = False


def parse(query: str) -> list[list[Term]]:
    """Parse a query into groups of terms: a record matches when every term of some group matches."""
    groups: list[list[Term]] = [[]]
    position, count = 0, 0
    query = query.rstrip()
    while position < len(query):
        match = TOKEN.match(query, position)
        if match is None:
            raise QueryError(f"Unclosed quote at character {position + 1}: close every \" you open.")
        position = match.end()
        if match["bare"] in ("OR", "AND"):
            if not groups[-1]:
                raise QueryError(f"{match['bare']} must come between two terms.")
            if match["bare"] == "OR":
                groups.append([])
            continue

        value = next(v for v in (match["field_quoted"], match["field_bare"], match["quoted"], match["bare"]) if v is not None)
        term_words = words(value)
        if not term_words:
            raise QueryError(f"The term {value[:100]!r} has no letters or digits to search for.")
        count += 1
        if count > MAX_TERMS:
            raise QueryError(f"A query can have at most {MAX_TERMS} terms.")
        prefix = bool(match["field_quoted_prefix"] or match["quoted_prefix"]) or (
            match["field_quoted"] is None and match["quoted"] is None and value.endswith("*")
        )
        groups[-1].append(Term(field=match["field"], words=tuple(term_words), prefix=prefix))

    if not groups[-1]:
        raise QueryError("The query is empty or ends with OR or AND: give a term after it.")
    return groups
