"""Full-text matching behind one interface: PostgreSQL text search, or SQLite FTS5.

Both backends see the same words: ``words`` splits text into runs of letters and
digits, lower-cased, and both the stored text and the query are built from them,
so the two tokenizers agree. A phrase matches a field whose words contain the
phrase's words in order. The phrase always travels as a query parameter.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.expressions import RawSQL

WORD = re.compile(r"[^\W_]+")
FTS_TABLE = "builtin_search_fts"


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


class _PostgresPhraseMatch(Func):
    """``to_tsvector(text) @@ phraseto_tsquery(phrase)``, the expression the GIN index of migration 0002 covers."""

    output_field = BooleanField()

    def __init__(self, column: str, phrase: str) -> None:
        super().__init__(F(column), Value(phrase))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, phrase = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        phrase_sql, phrase_params = compiler.compile(phrase)
        sql = f"to_tsvector('simple'::regconfig, {column_sql}) @@ phraseto_tsquery('simple'::regconfig, {phrase_sql})"
        return sql, [*column_params, *phrase_params]


def phrase_filter(phrase_words: list[str]) -> Q:
    """Build a filter on SearchField rows whose text contains these words in this order."""
    if connection.vendor == "postgresql":
        return Q(_PostgresPhraseMatch("text", " ".join(phrase_words)))
    # An FTS5 string in double quotes is one phrase; the words hold only letters and digits.
    fts_query = '"' + " ".join(phrase_words) + '"'
    return Q(pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [fts_query]))
