"""Error types shared by the mapping modules.

Every message is written for the business user who edits the rules, so the
helpers here build sentences, not stack-trace text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_SHORT_TEXT = 60


class RuleError(Exception):
    """One problem with one rule (or with the output as a whole).

    It is a value (comparable, hashable, listed in results) and also an
    exception, so `Rule.from_dict` can raise it.  It is not a frozen
    dataclass because the interpreter assigns `__traceback__` to exceptions,
    which a frozen dataclass refuses, and because exceptions must pickle
    through their `args` to cross Celery.
    """

    def __init__(self, target: str, message: str) -> None:
        super().__init__(target, message)

    @property
    def target(self) -> str:
        """The rule's target, or "" for problems of the output as a whole."""
        return self.args[0]

    @property
    def message(self) -> str:
        """One plain-English sentence naming the rule and the reason."""
        return self.args[1]

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form for run logs and the designer."""
        return {"target": self.target, "message": self.message}

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"RuleError(target={self.target!r}, message={self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuleError):
            return NotImplemented
        return self.args == other.args

    def __hash__(self) -> int:
        return hash(self.args)


class MappingFailed(Exception):
    """Raised by `apply_mapping` with every problem found, not just the first."""

    def __init__(self, errors: Iterable[RuleError]) -> None:
        # The list is the only argument so the exception pickles intact.
        super().__init__(list(errors))

    @property
    def errors(self) -> list[RuleError]:
        return self.args[0]

    def __str__(self) -> str:
        return " ".join(error.message for error in self.errors)


class ReasonError(ValueError):
    """A failure explained by a clause that can finish "Rule “x”: …".

    `reason` starts in lower case and has no final period; `str()` gives the
    same text as a stand-alone sentence.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(sentence(reason))
        self.reason = reason


class TransformError(ReasonError):
    """A transform could not handle a value, or its options are wrong."""


class ExpressionError(ReasonError):
    """A JSONata expression is invalid or failed on the given data."""


def sentence(reason: str) -> str:
    """Turn a lower-case clause into a sentence: capital first, one period."""
    reason = reason.rstrip(". ")
    return f"{reason[:1].upper()}{reason[1:]}."


def rule_message(target: str, reason: str) -> str:
    """'Rule “target”: reason.' — the shape of every per-rule message."""
    return f"Rule “{target}”: {reason.rstrip('. ')}."


def shorten(text: str, limit: int = _SHORT_TEXT) -> str:
    """Cut long user data so a message stays readable."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def describe(value: Any) -> str:
    """Name a value the way a business user would: 'the text “abc”'."""
    if value is None:
        return "no value"
    if isinstance(value, bool):
        return f"the value {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text “{shorten(value)}”"
    if isinstance(value, dict):
        return "a group of fields"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a value of type {type(value).__name__}"


def quote(value: Any) -> str:
    """Quote text as “x”; describe anything else."""
    return f"“{shorten(value)}”" if isinstance(value, str) else describe(value)


def listing(values: Iterable[Any], limit: int = 10) -> str:
    """'a, b, c' — at most `limit` items, then an ellipsis."""
    items = [str(value) for value in values]
    shown = ", ".join(items[:limit])
    return f"{shown}, …" if len(items) > limit else shown
