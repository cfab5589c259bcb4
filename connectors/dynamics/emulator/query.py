"""OData query options as the Dataverse emulator applies them.

``$filter`` supports eq ne gt ge lt le, and/or/not, parentheses,
``contains``, ``startswith`` and ``endswith``; ``$orderby`` several columns
asc/desc; ``$select`` and ``$expand`` (one level, with a nested
``$select``). A bad option is a ``QueryError`` that the views answer with
Dataverse's 400 body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]
Predicate = Callable[[Record], bool]


class QueryError(Exception):
    """An option Dataverse would refuse with 400."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<guid>[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})
    | (?P<date>\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_./]*)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
COMPARISONS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}
FUNCTIONS = {
    "contains": lambda a, b: b.lower() in a.lower(),
    "startswith": lambda a, b: a.lower().startswith(b.lower()),
    "endswith": lambda a, b: a.lower().endswith(b.lower()),
}


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QueryError(f"Syntax error at position {position} in '{text}'.")
        position = match.end()
        kind = match.lastgroup or ""
        value: Any = match.group(kind)
        if kind == "string":
            value = value[1:-1].replace("''", "'")
        elif kind == "number":
            value = float(value) if "." in value else int(value)
        elif kind == "date":
            value = _moment(value)
        elif kind == "guid":
            value = value.lower()
        elif kind == "name" and value in ("true", "false", "null"):
            kind, value = "literal", {"true": True, "false": False, "null": None}[value]
        tokens.append((kind, value))
    return tokens


def _moment(text: str) -> datetime:
    if len(text) == 10:
        text += "T00:00:00"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _comparable(value: Any, other: Any) -> Any:
    """A stored value in the type of the literal it is compared with."""
    if isinstance(other, datetime) and isinstance(value, str):
        try:
            return _moment(value)
        except ValueError:
            return None
    if isinstance(value, str) and isinstance(other, str):
        return value.lower()  # Dataverse compares text case-insensitively
    return value


class _Parser:
    def __init__(self, text: str, columns: set[str]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.columns = columns
        self.entity = ""

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.position != len(self.tokens):
            raise QueryError("Syntax error: unexpected text after the expression.")
        return predicate

    def _peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self) -> tuple[str, Any]:
        token = self._peek()
        if token is None:
            raise QueryError("Syntax error: the expression ends too early.")
        self.position += 1
        return token

    def _expect(self, value: str) -> None:
        if self._next() != ("punct", value):
            raise QueryError(f"Syntax error: '{value}' expected.")

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek() == ("name", "or"):
            self.position += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda r: any(p(r) for p in parts)

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while self._peek() == ("name", "and"):
            self.position += 1
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else lambda r: all(p(r) for p in parts)

    def _unary(self) -> Predicate:
        if self._peek() == ("name", "not"):
            self.position += 1
            inner = self._unary()
            return lambda r: not inner(r)
        if self._peek() == ("punct", "("):
            self.position += 1
            inner = self._or()
            self._expect(")")
            return inner
        token = self._peek()
        if token and token[0] == "name" and token[1] in FUNCTIONS:
            return self._function()
        return self._comparison()

    def _function(self) -> Predicate:
        _, name = self._next()
        self._expect("(")
        column = self._column()
        self._expect(",")
        kind, value = self._next()
        if kind != "string":
            raise QueryError(f"The second argument of {name} must be a string.")
        self._expect(")")
        test = FUNCTIONS[name]
        return lambda r: isinstance(r.get(column), str) and test(r[column], value)

    def _column(self) -> str:
        kind, name = self._next()
        if kind != "name":
            raise QueryError("Syntax error: a column name was expected.")
        if name not in self.columns:
            raise QueryError(
                f"Could not find a property named '{name}' on type "
                f"'Microsoft.Dynamics.CRM.{self.entity}'."
            )
        return name

    def _comparison(self) -> Predicate:
        column = self._column()
        kind, operator = self._next()
        if kind != "name" or operator not in COMPARISONS:
            raise QueryError(f"Syntax error: unknown operator '{operator}'.")
        kind, value = self._next()
        if kind in ("name", "punct"):
            raise QueryError(f"Syntax error: a value was expected after {operator}.")
        compare = COMPARISONS[operator]
        literal = value.lower() if isinstance(value, str) else value
        return lambda r: compare(_comparable(r.get(column), literal), literal)


def parse_filter(text: str, columns: set[str], entity: str) -> Predicate:
    """``$filter`` as a predicate over stored records."""
    parser = _Parser(text, columns)
    parser.entity = entity
    return parser.parse()


def order(records: list[Record], text: str, columns: set[str]) -> list[Record]:
    """``$orderby``: stable sorts from the last key to the first; nulls first."""
    keys = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, direction = part.partition(" ")
        direction = direction.strip().lower() or "asc"
        if name not in columns or direction not in ("asc", "desc"):
            raise QueryError(f"The $orderby clause '{part}' is not valid.")
        keys.append((name, direction == "desc"))
    for name, descending in reversed(keys):
        records.sort(
            key=lambda r: (
                r.get(name) is not None,
                _sort_value(r.get(name)),
            ),
            reverse=descending,
        )
    return records


def _sort_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.lower()
    return value


def split_top_level(text: str) -> list[str]:
    """``a,b($select=c,d),e`` -> ``["a", "b($select=c,d)", "e"]``."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def parse_expand(text: str) -> list[tuple[str, list[str]]]:
    """``$expand``: ``[(navigation property, [selected columns])]``."""
    expanded = []
    for part in split_top_level(text):
        name, _, options = part.partition("(")
        selected: list[str] = []
        inner = options[:-1] if options.endswith(")") else options
        for option in filter(None, (o.strip() for o in inner.split(";"))):
            key, _, value = option.partition("=")
            if key.strip() == "$select":
                selected += [v.strip() for v in value.split(",") if v.strip()]
            elif key.strip():
                raise QueryError(f"The $expand option '{key}' is not supported.")
        expanded.append((name.strip(), selected))
    return expanded
