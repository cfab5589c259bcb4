"""Named transforms applied to a rule's value, in order.

Each transform is described by a `TransformSpec` so the designer can list the
transforms and their options, and so `check_rules` can validate options
before any data exists.  Every transform passes None through (except
`default`, whose whole point is to replace it) so a missing source field does
not turn into a confusing error further down the chain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from integrations.mapping.errors import (
    ExpressionError,
    TransformError,
    describe,
    listing,
    quote,
)
from integrations.mapping.expressions import check_expression, evaluate

MAX_PATTERN_LENGTH = 500
MAX_SEARCH_LENGTH = 10_000

Tables = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Run:
    """What a transform may need besides the value: the context and tables."""

    context: Mapping
    tables: Tables | None = None


@dataclass(frozen=True)
class Option:
    """One option of a transform, as the designer shows and checks it."""

    name: str
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    kinds: tuple[type, ...] = ()  # accepted Python types; () accepts any value
    kind_label: str = ""


def _no_problems(options: Mapping, tables: Tables | None) -> list[str]:
    return []


@dataclass(frozen=True)
class TransformSpec:
    """A transform: what the UI shows, its options and how to apply it."""

    name: str
    label: str
    description: str
    apply: Callable[[Any, Mapping, Run], Any]
    options: tuple[Option, ...] = ()
    # Extra static checks beyond the option list; returns problem clauses.
    check: Callable[[Mapping, Tables | None], list[str]] = _no_problems

    def problems(self, options: Mapping, tables: Tables | None) -> list[str]:
        """Every problem with `options`, as clauses; [] when they are fine."""
        problems = [self._option_problem(option, options) for option in self.options]
        problems = [problem for problem in problems if problem]
        known = {option.name for option in self.options} | {"name"}
        problems += [
            f"the transform “{self.name}” has no option “{name}”"
            for name in options
            if name not in known
        ]
        return problems or self.check(options, tables)

    def _option_problem(self, option: Option, options: Mapping) -> str:
        if option.name not in options:
            if option.required:
                return f"the transform “{self.name}” needs the option “{option.name}”"
            return ""
        value = options[option.name]
        if option.kinds and not _is_kind(value, option.kinds):
            return (
                f"the option “{option.name}” of the transform “{self.name}” "
                f"must be {option.kind_label}, not {describe(value)}"
            )
        if option.choices and value not in option.choices:
            return (
                f"the option “{option.name}” of the transform “{self.name}” must be "
                f"one of {listing(option.choices)}, not {quote(value)}"
            )
        return ""


def _is_kind(value: Any, kinds: tuple[type, ...]) -> bool:
    """isinstance, except that True is not a number unless bool is listed."""
    if isinstance(value, bool):
        return bool in kinds
    return isinstance(value, kinds)


def apply_transform(value: Any, options: Mapping, run: Run) -> Any:
    """Apply one transform; raise `TransformError` with a plain reason."""
    name = options.get("name")
    spec = TRANSFORMS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise TransformError(unknown_transform(name))
    problems = spec.problems(options, run.tables)
    if problems:
        raise TransformError(problems[0])
    return spec.apply(value, options, run)


def unknown_transform(name: Any) -> str:
    return (
        f"there is no transform called {quote(name)} "
        f"(known transforms: {listing(sorted(TRANSFORMS), limit=20)})"
    )


# --- text ------------------------------------------------------------------


def _text_only(value: Any, action: str) -> str:
    if not isinstance(value, str):
        raise TransformError(f"{describe(value)} is not text, so it cannot be {action}")
    return value


def _trim(value: Any, options: Mapping, run: Run) -> Any:
    return None if value is None else _text_only(value, "trimmed").strip()


def _title(text: str) -> str:
    """Capitalise each word; unlike str.title(), "they're" stays "They're"."""
    return re.sub(r"\S+", lambda word: word[0][:1].upper() + word[0][1:].lower(), text)


_CASES: dict[str, Callable[[str], str]] = {
    "upper": str.upper,
    "lower": str.lower,
    "title": _title,
}


def _case(value: Any, options: Mapping, run: Run) -> Any:
    if value is None:
        return None
    return _CASES[options["to"]](_text_only(value, "changed to another case"))


def _default(value: Any, options: Mapping, run: Run) -> Any:
    return options["value"] if value is None or value == "" else value


def to_text(value: Any) -> str | None:
    """Text form of a value: 3.0 -> "3", True -> "true", lists -> JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, default=str)


def _string(value: Any, options: Mapping, run: Run) -> Any:
    return to_text(value)


def _concat(value: Any, options: Mapping, run: Run) -> Any:
    parts = [
        value,
        *(evaluate(expression, run.context) for expression in options["with"]),
    ]
    texts = [to_text(part) for part in parts if part is not None and part != ""]
    return options.get("separator", "").join(texts) if texts else None


def _check_concat(options: Mapping, tables: Tables | None) -> list[str]:
    problems = []
    for expression in options["with"]:
        if not isinstance(expression, str):
            problems.append(
                f"the option “with” of the transform “concat” must list expressions, "
                f"not {describe(expression)}"
            )
            continue
        try:
            check_expression(expression)
        except ExpressionError as exc:
            problems.append(exc.reason)
    return problems


# --- numbers and booleans ----------------------------------------------------

_SPACES = " \u00a0\u202f'"


def _number_pattern(decimal: str) -> re.Pattern[str]:
    """Digits, optionally grouped by the other separator, a space or an '."""
    thousands = re.escape(("," if decimal == "." else ".") + _SPACES)
    return re.compile(
        rf"[+-]?(?:\d{{1,3}}(?:[{thousands}]\d{{3}})+|\d*)(?:{re.escape(decimal)}\d+)?"
    )


_NUMBER_PATTERNS = {decimal: _number_pattern(decimal) for decimal in ".,"}


def _number(value: Any, options: Mapping, run: Run) -> Any:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _integral(value)
    decimal = options.get("decimal_separator", ".")
    text = value.strip() if isinstance(value, str) else ""
    if not re.search(r"\d", text) or not _NUMBER_PATTERNS[decimal].fullmatch(text):
        raise TransformError(
            f"{describe(value)} is not a number (the decimal separator is “{decimal}”)"
        )
    whole, _, fraction = text.partition(decimal)
    digits = re.sub(r"[^\d+-]", "", whole)
    return (
        int(digits or "0") if not fraction else _integral(float(f"{digits}.{fraction}"))
    )


def _integral(number: float) -> int | float:
    return int(number) if isinstance(number, float) and number.is_integer() else number


_TRUE = frozenset({"yes", "true", "1", "ja", "y", "j", "on"})
_FALSE = frozenset({"no", "false", "0", "nein", "n", "off"})


def _boolean(value: Any, options: Mapping, run: Run) -> Any:
    if value is None or isinstance(value, bool):
        return value
    key = to_text(value).strip().lower() if isinstance(value, str | int) else None
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise TransformError(
        f"{describe(value)} is not a yes/no value "
        "(use yes, true, 1 or ja for yes and no, false, 0 or nein for no)"
    )


# --- dates -------------------------------------------------------------------

_DATE_TOKENS = {
    "YYYY": "%Y",
    "MM": "%m",
    "DD": "%d",
    "HH": "%H",
    "mm": "%M",
    "ss": "%S",
}
_DATE_TOKEN = re.compile("|".join(_DATE_TOKENS))
_TIME_TOKENS = frozenset({"HH", "mm", "ss"})


def _strftime_format(friendly: str) -> str:
    """'DD.MM.YYYY' -> '%d.%m.%Y'; a literal % must not become a directive."""
    escaped = friendly.replace("%", "%%")
    return _DATE_TOKEN.sub(lambda token: _DATE_TOKENS[token[0]], escaped)


def _parse_date(text: str, friendly: str) -> date:
    """A date when the format has no time, otherwise a datetime."""
    if friendly == "iso":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return datetime.fromisoformat(text)
    parsed = datetime.strptime(text, _strftime_format(friendly))
    has_time = _TIME_TOKENS.intersection(_DATE_TOKEN.findall(friendly))
    return parsed if has_time else parsed.date()


def _date(value: Any, options: Mapping, run: Run) -> Any:
    if value is None:
        return None
    source = options.get("from", "iso")
    if isinstance(value, date):
        parsed = value
    else:
        text = _text_only(value, "read as a date").strip()
        try:
            parsed = _parse_date(text, source)
        except ValueError:
            expected = "an ISO 8601 date" if source == "iso" else f"the format {source}"
            raise TransformError(
                f"the date “{text}” does not match {expected}"
            ) from None
    target = options.get("to", "iso")
    if target == "iso":
        return parsed.isoformat()
    return parsed.strftime(_strftime_format(target))


def _check_date(options: Mapping, tables: Tables | None) -> list[str]:
    return [
        f"the option “{name}” of the transform “date” must be “iso” or a format "
        f"using YYYY, MM, DD, HH, mm and ss, not “{options[name]}”"
        for name in ("from", "to")
        if name in options
        and options[name] != "iso"
        and not _DATE_TOKEN.search(options[name])
    ]


# --- regex -------------------------------------------------------------------


def _regex(value: Any, options: Mapping, run: Run) -> Any:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = to_text(value)
    text = _text_only(value, "searched with a pattern")
    if len(text) > MAX_SEARCH_LENGTH:
        raise TransformError(
            f"the text is {len(text):,} characters long, more than the "
            f"{MAX_SEARCH_LENGTH:,} a pattern may search"
        )
    pattern = re.compile(options["pattern"])
    match = pattern.search(text)
    if match is None:
        if options.get("required", False):
            raise TransformError(
                f"{describe(text)} does not match the pattern “{options['pattern']}”"
            )
        return None
    return match.group(options.get("group", 1 if pattern.groups else 0))


def _check_regex(options: Mapping, tables: Tables | None) -> list[str]:
    pattern = options["pattern"]
    if len(pattern) > MAX_PATTERN_LENGTH:
        return [
            f"the pattern is {len(pattern)} characters long; "
            f"at most {MAX_PATTERN_LENGTH} are allowed"
        ]
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return [f"the pattern “{pattern}” is not valid: {exc}"]
    group = options.get("group")
    if group is None or group in compiled.groupindex:
        return []
    if isinstance(group, int) and 0 <= group <= compiled.groups:
        return []
    return [f"the pattern “{pattern}” has no group {group}"]


# --- value maps ----------------------------------------------------------------


def _translate(value: Any, values: Mapping, options: Mapping, what: str) -> Any:
    """Shared by map and lookup: the mapped value, the default, or an error."""
    if value is None:
        return None
    key = value if isinstance(value, str) else to_text(value)
    if key in values:
        return values[key]
    if "default" in options:
        return options["default"]
    raise TransformError(
        f"{describe(value)} is not in {what} (known values: {listing(values)})"
    )


def _map(value: Any, options: Mapping, run: Run) -> Any:
    return _translate(value, options["values"], options, "the value map")


def _lookup(value: Any, options: Mapping, run: Run) -> Any:
    problems = _check_lookup(options, run.tables or {})
    if problems:
        raise TransformError(problems[0])
    table = options["table"]
    return _translate(value, run.tables[table], options, f"the table “{table}”")


def _check_lookup(options: Mapping, tables: Tables | None) -> list[str]:
    """Without `tables` the names are unknown, so only a run can tell."""
    if tables is None or options["table"] in tables:
        return []
    return [f"the lookup table “{options['table']}” does not exist"]


def _option_default() -> Option:
    return Option("default", "Result for values that are not listed.")


TRANSFORMS: dict[str, TransformSpec] = {
    spec.name: spec
    for spec in (
        TransformSpec(
            "trim", "Trim", "Removes spaces at the start and end of a text.", _trim
        ),
        TransformSpec(
            "case",
            "Change case",
            "Changes a text to upper case, lower case or title case.",
            _case,
            (Option("to", "upper, lower or title", True, ("upper", "lower", "title")),),
        ),
        TransformSpec(
            "default",
            "Default value",
            "Uses a fixed value when there is no value or an empty text.",
            _default,
            (Option("value", "The value to use.", True),),
        ),
        TransformSpec(
            "number",
            "Number",
            "Reads a number such as “1.234,50”; whole numbers stay whole.",
            _number,
            (
                Option(
                    "decimal_separator",
                    "“.” (default) or “,”; the other one may group thousands.",
                    choices=(".", ","),
                ),
            ),
        ),
        TransformSpec(
            "date",
            "Date",
            "Reads a date in one format and writes it in another.",
            _date,
            (
                Option(
                    "from",
                    "“iso” (default) or e.g. DD.MM.YYYY",
                    kinds=(str,),
                    kind_label="text",
                ),
                Option(
                    "to",
                    "“iso” (default) or e.g. YYYY-MM-DD HH:mm",
                    kinds=(str,),
                    kind_label="text",
                ),
            ),
            _check_date,
        ),
        TransformSpec(
            "concat",
            "Join",
            "Appends the results of more expressions, joined by a separator.",
            _concat,
            (
                Option(
                    "with",
                    "Expressions to append.",
                    True,
                    kinds=(list,),
                    kind_label="a list of expressions",
                ),
                Option(
                    "separator",
                    "Text between the parts.",
                    kinds=(str,),
                    kind_label="text",
                ),
            ),
            _check_concat,
        ),
        TransformSpec(
            "regex",
            "Extract with a pattern",
            "Takes the part of a text matched by a regular expression.",
            _regex,
            (
                Option(
                    "pattern",
                    "A regular expression.",
                    True,
                    kinds=(str,),
                    kind_label="text",
                ),
                Option(
                    "group",
                    "Group to take: a number or a name.",
                    kinds=(int, str),
                    kind_label="a number or a name",
                ),
                Option(
                    "required",
                    "Fail when the text does not match.",
                    kinds=(bool,),
                    kind_label="true or false",
                ),
            ),
            _check_regex,
        ),
        TransformSpec(
            "map",
            "Map values",
            "Replaces listed values by other values.",
            _map,
            (
                Option(
                    "values",
                    "Pairs of value and replacement.",
                    True,
                    kinds=(dict,),
                    kind_label="a set of value pairs",
                ),
                _option_default(),
            ),
        ),
        TransformSpec(
            "lookup",
            "Look up in a table",
            "Replaces a value by its entry in a named lookup table.",
            _lookup,
            (
                Option(
                    "table",
                    "Name of the lookup table.",
                    True,
                    kinds=(str,),
                    kind_label="text",
                ),
                _option_default(),
            ),
            _check_lookup,
        ),
        TransformSpec(
            "string",
            "Text",
            "Turns numbers, yes/no values and lists into text.",
            _string,
        ),
        TransformSpec(
            "boolean",
            "Yes/no",
            "Reads yes/true/1/ja as yes and no/false/0/nein as no.",
            _boolean,
        ),
    )
}
