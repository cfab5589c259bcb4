"""Evaluate JSONata expressions against a run context.

Two things make this more than `jsonata.Jsonata(expr).evaluate(data)`:

* Compiling is far slower than evaluating, so compiled expressions are
  cached.  A compiled `jsonata.Jsonata` keeps per-evaluation state on itself
  (the current input and environment frame, the timestamp for `$now()`), so
  one instance must never run in two threads at once: the cache is per
  thread.
* Most rules are plain field paths ("trigger.body.account.name").  Those are
  walked directly with JSONata's own path semantics, which is much faster and
  gives the same result (see `_walk`).
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple

import jsonata
from jsonata.jexception import JException

from integrations.mapping.errors import ExpressionError, shorten

CACHE_SIZE = 1024
_LIBRARY_TEXT_LIMIT = 200

# Names JSONata reads as literals, not as field names.
_LITERALS = frozenset({"true", "false", "null"})
_PLAIN_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", re.ASCII)
_MISSING = object()


class CacheInfo(NamedTuple):
    """Statistics of the calling thread's cache, shaped like lru_cache's."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


class _ThreadCache(threading.local):
    """Compiled expressions of one thread, least recently used first."""

    def __init__(self) -> None:
        self.compiled: OrderedDict[str, jsonata.Jsonata] = OrderedDict()
        self.hits = 0
        self.misses = 0


_cache = _ThreadCache()


def evaluate(expression: str, context: Mapping) -> Any:
    """Evaluate `expression` against `context`; JSONata "undefined" is None.

    Raises `ExpressionError` (a `ValueError`) with a plain message when the
    expression is not valid or fails on this data.
    """
    path = plain_path(expression)
    if path is not None:
        return _walk(context, path)
    constant = literal(expression)
    if constant is not _MISSING:
        return constant
    compiled = compile_expression(expression)
    # The library finds "the running expression" through a thread-local that
    # the *last compiled* expression set; point it at this one, otherwise
    # `$now()` reads another expression's timestamp.
    jsonata.Jsonata.CURRENT.jsonata = compiled
    try:
        # Passing bindings makes the library use a fresh frame, so the cached
        # expression does not keep the last context alive.
        return compiled.evaluate(context, {})
    # The interpreter raises arbitrary Python errors (ZeroDivisionError,
    # ValueError, RecursionError…) for bad data; all are the expression's fault.
    except Exception as exc:
        raise ExpressionError(
            f"the expression “{shorten(expression)}” could not be evaluated: "
            f"{_library_text(exc)}"
        ) from exc


def compile_expression(expression: str) -> jsonata.Jsonata:
    """Return the cached compiled expression, compiling it on first use."""
    compiled = _cache.compiled.get(expression)
    if compiled is not None:
        _cache.hits += 1
        _cache.compiled.move_to_end(expression)
        return compiled
    _cache.misses += 1
    try:
        compiled = jsonata.Jsonata(expression)
    except JException as exc:
        raise ExpressionError(
            f"the expression “{shorten(expression)}” is not valid: "
            f"{_library_text(exc)}{_position(exc, expression)}"
        ) from exc
    _cache.compiled[expression] = compiled
    if len(_cache.compiled) > CACHE_SIZE:
        _cache.compiled.popitem(last=False)
    return compiled


def check_expression(expression: str) -> None:
    """Raise `ExpressionError` if `expression` does not compile."""
    if plain_path(expression) is None:
        compile_expression(expression)


def cache_info() -> CacheInfo:
    """Hits, misses and size of the calling thread's compiled-expression cache."""
    return CacheInfo(_cache.hits, _cache.misses, CACHE_SIZE, len(_cache.compiled))


def cache_clear() -> None:
    """Empty the calling thread's cache and reset its statistics."""
    _cache.compiled.clear()
    _cache.hits = _cache.misses = 0


@functools.lru_cache(maxsize=CACHE_SIZE)
def plain_path(expression: str) -> tuple[str, ...] | None:
    """The field names of a plain dotted path, or None for anything else."""
    if not _PLAIN_PATH.fullmatch(expression):
        return None
    names = tuple(expression.split("."))
    return None if _LITERALS.intersection(names) else names


_STRING = re.compile(r'"([^"\\]*)"|\'([^\'\\]*)\'')
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?")


@functools.lru_cache(maxsize=CACHE_SIZE)
def literal(expression: str) -> Any:
    """The value of a constant ("D365", 'x', 16, 2.5), or ``_MISSING``.

    Constants are common in mappings and need no evaluator; anything with an
    escape, an exponent or an operator goes to JSONata.
    """
    text = expression.strip()
    if match := _STRING.fullmatch(text):
        return match.group(1) if match.group(1) is not None else match.group(2)
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return _MISSING


class _Sequence(list):
    """A JSONata result sequence, as opposed to an array found in the data."""


def _walk(context: Mapping, names: tuple[str, ...]) -> Any:
    """Follow `names` through `context` the way JSONata evaluates a path.

    Through objects alone that is a chain of lookups; the first array hands
    over to `_walk_sequence`, which has JSONata's mapping semantics.
    """
    current: Any = context
    for index, name in enumerate(names):
        if isinstance(current, list):
            return _walk_sequence(_Sequence(current), names[index:])
        if not isinstance(current, Mapping):
            return None
        current = current.get(name)
    return current


def _walk_sequence(inputs: _Sequence, names: tuple[str, ...]) -> Any:
    """The rest of a path, from a sequence of items, as JSONata does it.

    A port of jsonata-js `evaluatePath`/`evaluateStep`/`lookup`: stepping
    through an array maps over its items and flattens the results into a
    sequence; a sequence of one is unwrapped and an empty one is undefined,
    while an array that is a value in the data is returned as it is.
    """
    current: list = inputs
    for index, name in enumerate(names):
        current = _step(current, name, last=index == len(names) - 1)
        if not current:
            break
    result = _collapse(current)
    if result is _MISSING:
        return None
    return list(result) if isinstance(result, _Sequence) else result


def _step(inputs: list, name: str, *, last: bool) -> list:
    """Look `name` up in every input and flatten the results into a sequence."""
    found = [_collapse(_lookup(item, name)) for item in inputs]
    found = [value for value in found if value is not _MISSING]
    if last and len(found) == 1 and _is_array(found[0]):
        return found[0]
    sequence = _Sequence()
    for value in found:
        if isinstance(value, list):
            sequence.extend(value)
        else:
            sequence.append(value)
    return sequence


def _lookup(value: Any, name: str) -> Any:
    """The field `name` of an object, or of every object inside an array."""
    if isinstance(value, list):
        sequence = _Sequence()
        for item in value:
            found = _lookup(item, name)
            if found is _MISSING:
                continue
            if isinstance(found, list):
                sequence.extend(found)
            else:
                sequence.append(found)
        return sequence
    if isinstance(value, Mapping):
        return value.get(name, _MISSING)
    return _MISSING


def _collapse(value: Any) -> Any:
    """Unwrap a sequence of one; an empty sequence is undefined."""
    if not isinstance(value, _Sequence):
        return value
    if not value:
        return _MISSING
    return value[0] if len(value) == 1 else value


def _is_array(value: Any) -> bool:
    return isinstance(value, list) and not isinstance(value, _Sequence)


def _library_text(exc: Exception) -> str:
    """The library's own explanation, cut short (it may quote whole inputs)."""
    text = str(exc).strip() or type(exc).__name__
    return shorten(text.rstrip("."), _LIBRARY_TEXT_LIMIT)


def _position(exc: JException, expression: str) -> str:
    """' (at character 5)' when the library knows where the problem is."""
    location = getattr(exc, "location", 0)
    if isinstance(location, int) and 0 < location <= len(expression):
        return f" (at character {location})"
    return ""
