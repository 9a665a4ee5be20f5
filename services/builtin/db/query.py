"""The db query language: a tokenizer and a recursive-descent parser that build a Q object.

Grammar, with ``and`` binding tighter than ``or``::

    expression := conjunction ("or" conjunction)*
    conjunction := term ("and" term)*
    term       := "(" expression ")" | field operator value
    field      := segment ("." segment)*
    segment    := identifier | `backquoted name`
    operator   := == | != | < | <= | > | >=
    value      := 'string' | "string" | number | true | false | null

A segment is one JSON key. Write a key that contains dots, spaces, quotes or other punctuation
in backquotes, doubling any backquote inside it. A segment of digits indexes into an array.
Field names and values never become SQL or ORM lookup names: each field becomes a queryset alias
with a generated name, whose segments are KeyTransforms that the database backend sends as query
parameters, and each value is a parameter too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import Expression
from django.db.models.fields.json import KeyTransform

MAX_DEPTH = 32
MAX_COMPARISONS = 100

LOOKUPS = {"==": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<operator>==|!=|<=|>=|<|>)
  | (?P<paren>[()])
  | (?P<dot>\.)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<quoted>`(?:[^`]|``)*`)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE | re.DOTALL,
)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


class QueryError(ValueError):
    """An invalid query, with a message that gives the position and the reason."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def _unescape(literal: str, position: int) -> str:
    characters = []
    index = 1
    while index < len(literal) - 1:
        character = literal[index]
        if character == "\\":
            escaped = literal[index + 1]
            if escaped not in ESCAPES:
                raise QueryError(f"Invalid escape \\{escaped} at position {position + index}.")
            characters.append(ESCAPES[escaped])
            index += 2
        else:
            characters.append(character)
            index += 1
    return "".join(characters)


def tokenize(text: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:
            raise QueryError(f"Unexpected character {text[position]!r} at position {position}.")
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    return tokens


class Parser:
    def __init__(self, text: str, column: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.column = column
        self.comparisons = 0
        self.aliases: dict[str, Expression] = {}

    def parse(self) -> tuple[Q, dict[str, Expression]]:
        if not self.tokens:
            raise QueryError("The query is empty.")
        condition = self.expression(depth=0)
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise QueryError(f"Unexpected {token.text!r} at position {token.position}; expected and, or or the end.")
        return condition, self.aliases

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def next(self, expected: str) -> Token:
        token = self.peek()
        if token is None:
            raise QueryError(f"The query ends too early; expected {expected}.")
        self.index += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() == word:
            self.index += 1
            return True
        return False

    def expression(self, depth: int) -> Q:
        if depth > MAX_DEPTH:
            raise QueryError(f"The query nests parentheses more than {MAX_DEPTH} deep.")
        condition = self.conjunction(depth)
        while self.keyword("or"):
            condition = condition | self.conjunction(depth)
        return condition

    def conjunction(self, depth: int) -> Q:
        condition = self.term(depth)
        while self.keyword("and"):
            condition = condition & self.term(depth)
        return condition

    def term(self, depth: int) -> Q:
        token = self.peek()
        if token is not None and token.text == "(":
            self.index += 1
            condition = self.expression(depth + 1)
            closing = self.next("')'")
            if closing.text != ")":
                raise QueryError(f"Expected ')' at position {closing.position}, found {closing.text!r}.")
            return condition
        return self.comparison()

    def comparison(self) -> Q:
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise QueryError(f"The query has more than {MAX_COMPARISONS} comparisons.")
        field = self.field()
        operator = self.next("an operator such as ==")
        if operator.kind != "operator":
            raise QueryError(f"Expected an operator such as == at position {operator.position}, found {operator.text!r}.")
        value = self.value()

        if operator.text == "!=":
            # Records without the field match neither == nor !=, as with SQL NULL.
            return Q(**{f"{field}__isnull": False}) & ~Q(**{f"{field}__exact": value})
        return Q(**{f"{field}__{LOOKUPS[operator.text]}": value})

    def field(self) -> str:
        """Parse a field path and return the name of the alias that selects it."""
        segments = [self.segment()]
        while (token := self.peek()) is not None and token.kind == "dot":
            self.index += 1
            segments.append(self.segment())
        # The alias name is ours, so no user text reaches an ORM lookup name.
        alias = f"query_field_{len(self.aliases)}"
        self.aliases[alias] = field_expression(segments, self.column)
        return alias

    def segment(self) -> str:
        token = self.next("a field name")
        if token.kind == "word" and token.text.lower() not in {"and", "or"}:
            return token.text
        if token.kind == "number" and token.text.isdigit():
            return token.text
        if token.kind == "quoted":
            name = token.text[1:-1].replace("``", "`")
            if not name:
                raise QueryError(f"Empty field name at position {token.position}.")
            if '"' in name and connection.vendor == "sqlite":
                # SQLite's JSON path syntax has no escape for a double quote inside a key.
                raise QueryError(
                    f"The field name at position {token.position} contains a double quote, "
                    "which this server's database (SQLite) cannot look up."
                )
            return name
        raise QueryError(f"Expected a field name at position {token.position}, found {token.text!r}.")

    def value(self) -> Any:
        token = self.next("a value")
        if token.kind == "string":
            return _unescape(token.text, token.position)
        if token.kind == "number":
            number = float(token.text)
            if not math.isfinite(number):
                raise QueryError(f"The number {token.text} at position {token.position} is too large.")
            return int(token.text) if number.is_integer() and re.fullmatch(r"-?\d+", token.text) else number
        if token.kind == "word" and token.text in {"true", "false", "null"}:
            return {"true": True, "false": False, "null": None}[token.text]
        raise QueryError(
            f"Expected a value (a quoted string, a number, true, false or null) at position {token.position}, "
            f"found {token.text!r}."
        )


def field_expression(segments: list[str], column: str) -> Expression:
    """Build nested KeyTransforms for a path of JSON keys inside ``column``."""
    expression: Any = column
    for segment in segments:
        expression = KeyTransform(segment, expression)
    return expression


def parse_field(text: str, column: str) -> Expression:
    """Parse a field path such as ``address.city`` or ```first name``` into an expression, for ordering."""
    parser = Parser(text, column)
    alias = parser.field()
    if (token := parser.peek()) is not None:
        raise QueryError(f"Unexpected {token.text!r} at position {token.position}, after the field name.")
    return parser.aliases[alias]


def parse_query(text: str, column: str) -> tuple[Q, dict[str, Expression]]:
    """Parse a query into a condition on aliases, and the alias expressions to add to the queryset first."""
    return Parser(text, column).parse()
