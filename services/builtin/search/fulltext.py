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
    """``to_tsvector(text) @@ <tsquery>``, on the expression the GIN index of migration 0002 covers."""

    output_field = BooleanField()

    def __init__(self, column: str, query: str, *, parse_function: str) -> None:
        super().__init__(F(column), Value(query))
        self.parse_function = parse_function

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, query = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        query_sql, query_params = compiler.compile(query)
        sql = (
            f"to_tsvector('simple'::regconfig, {column_sql}) @@ "
            f"{self.parse_function}('simple'::regconfig, {query_sql})"
        )
        return sql, [*column_params, *query_params]


def phrase_filter(phrase_words: list[str], *, prefix: bool = False) -> Q:
    """Build a filter on SearchField rows whose text contains these words in this order.

    With ``prefix``, the last word also matches longer words that start with it.
    """
    if connection.vendor == "postgresql":
        if not prefix:
            return Q(_PostgresPhraseMatch("text", " ".join(phrase_words), parse_function="phraseto_tsquery"))
        # The words contain only letters and digits, so none of them can be tsquery syntax.
        tsquery = " <-> ".join([*phrase_words[:-1], f"{phrase_words[-1]}:*"])
        return Q(_PostgresPhraseMatch("text", tsquery, parse_function="to_tsquery"))
    # An FTS5 string in double quotes is one phrase, and a * after it makes its last word a prefix.
    fts_query = '"' + " ".join(phrase_words) + '"' + ("*" if prefix else "")
    return Q(pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [fts_query]))
