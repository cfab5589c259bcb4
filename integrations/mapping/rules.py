"""Mapping rules: `target field <- JSONata expression` plus transforms.

`apply_mapping` builds a connector action's input from a run context,
`preview` does the same for the designer without raising, and `check_rules`
validates rules before any data exists (the designer's "Save").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from integrations.mapping import schema as schema_checks
from integrations.mapping.errors import (
    ExpressionError,
    MappingFailed,
    ReasonError,
    RuleError,
    describe,
    rule_message,
)
from integrations.mapping.expressions import check_expression, evaluate
from integrations.mapping.transforms import (
    TRANSFORMS,
    Run,
    Tables,
    apply_transform,
    unknown_transform,
)

_TARGET = re.compile(r"[^.\s]+(?:\.[^.\s]+)*")
_RULE_KEYS = frozenset({"target", "expression", "transforms"})


@dataclass(frozen=True)
class Rule:
    """Fill the dotted `target` with `expression`, then apply `transforms`."""

    target: str
    expression: str
    transforms: tuple[dict, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping) -> Rule:
        """Build a rule from stored JSON; raise `RuleError` on a bad shape."""
        if not isinstance(data, Mapping):
            raise RuleError(
                "", f"A rule must be a set of fields, not {describe(data)}."
            )
        target = data.get("target")
        if not isinstance(target, str) or not _TARGET.fullmatch(target):
            raise RuleError(
                "",
                f"The rule target {describe(target)} is not a field name "
                "(names separated by dots, without spaces).",
            )
        problem = _shape_problem(data)
        if problem:
            raise RuleError(target, rule_message(target, problem))
        transforms = tuple(dict(options) for options in data.get("transforms", ()))
        return cls(target, data.get("expression", ""), transforms)

    def as_dict(self) -> dict:
        return {
            "target": self.target,
            "expression": self.expression,
            "transforms": [dict(options) for options in self.transforms],
        }


def _shape_problem(data: Mapping) -> str:
    """What is wrong with a rule's fields other than its target, or ""."""
    unknown = sorted(str(key) for key in data if key not in _RULE_KEYS)
    if unknown:
        return f"it has unknown settings ({', '.join(unknown)})"
    if not isinstance(data.get("expression", ""), str):
        return "its expression must be text"
    transforms = data.get("transforms", [])
    if not isinstance(transforms, list | tuple) or not all(
        isinstance(options, Mapping) for options in transforms
    ):
        return "its transforms must be a list of settings, each with a name"
    return ""


@dataclass
class PreviewResult:
    """What the rules build from sample data, and what went wrong."""

    output: dict
    errors: list[RuleError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def apply_mapping(
    rules: Sequence[Rule | Mapping],
    context: Mapping,
    *,
    schema: Mapping | None = None,
    tables: Tables | None = None,
) -> dict:
    """Build the action input; raise `MappingFailed` listing every problem."""
    result = preview(rules, context, schema=schema, tables=tables)
    if result.errors:
        raise MappingFailed(result.errors)
    return result.output


def preview(
    rules: Sequence[Rule | Mapping],
    sample: Mapping,
    *,
    schema: Mapping | None = None,
    tables: Tables | None = None,
) -> PreviewResult:
    """Build what can be built; failed rules are left out and reported."""
    parsed, errors = _parse(rules)
    output: dict = {}
    filled: list[str] = []
    run = Run(sample, tables)
    for rule in parsed:
        try:
            _put(output, rule.target, _value(rule, run), filled)
        except ReasonError as exc:
            errors.append(RuleError(rule.target, rule_message(rule.target, exc.reason)))
    if schema is not None:
        failed = [error.target for error in errors]
        targets = [rule.target for rule in parsed]
        errors += _schema_errors(output, schema, targets, failed)
    return PreviewResult(output, errors)


def check_rules(
    rules: Sequence[Rule | Mapping],
    schema: Mapping | None = None,
    tables: Tables | None = None,
) -> list[RuleError]:
    """Problems found without data: syntax, transforms, targets, schema.

    With `tables` None the table names are not known, so lookup transforms
    are not checked against them.
    """
    parsed, errors = _parse(rules)
    for rule in parsed:
        errors += [
            RuleError(rule.target, rule_message(rule.target, reason))
            for reason in _rule_problems(rule, tables)
        ]
    errors += _target_clashes(parsed)
    if schema is not None:
        errors += _schema_gaps(parsed, schema)
    return errors


def _parse(rules: Iterable[Rule | Mapping]) -> tuple[list[Rule], list[RuleError]]:
    parsed, errors = [], []
    for rule in rules:
        try:
            parsed.append(rule if isinstance(rule, Rule) else Rule.from_dict(rule))
        except RuleError as exc:
            errors.append(exc)
    return parsed, errors


def _value(rule: Rule, run: Run) -> Any:
    value = evaluate(rule.expression, run.context) if rule.expression else None
    for options in rule.transforms:
        value = apply_transform(value, options, run)
    return value


class _TargetTaken(ReasonError):
    """Two rules write the same place in the output."""


def _put(output: dict, target: str, value: Any, filled: list[str]) -> None:
    """Set `value` at the dotted `target`, creating the objects on the way.

    Refusing targets that clash with `filled` ones also guarantees that only
    objects created here are written into, never a dict from the context.
    """
    for earlier in filled:
        reason = _clash(target, earlier)
        if reason:
            raise _TargetTaken(reason)
    filled.append(target)
    *parents, last = target.split(".")
    node = output
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value


def _rule_problems(rule: Rule, tables: Tables | None) -> list[str]:
    problems = []
    if rule.expression:
        try:
            check_expression(rule.expression)
        except ExpressionError as exc:
            problems.append(exc.reason)
    for options in rule.transforms:
        spec = TRANSFORMS.get(options.get("name"))
        if spec is None:
            problems.append(unknown_transform(options.get("name")))
        else:
            problems += spec.problems(options, tables)
    return problems


def _target_clashes(rules: Sequence[Rule]) -> list[RuleError]:
    """Duplicate targets, and targets inside another rule's target."""
    errors, seen = [], []
    for rule in rules:
        for earlier in seen:
            reason = _clash(rule.target, earlier)
            if reason:
                errors.append(RuleError(rule.target, rule_message(rule.target, reason)))
                break
        seen.append(rule.target)
    return errors


def _clash(target: str, earlier: str) -> str:
    if target == earlier:
        return "another rule already fills this field"
    if target.startswith(f"{earlier}."):
        return f"another rule already fills “{earlier}” as a whole"
    if earlier.startswith(f"{target}."):
        return f"another rule already fills “{earlier}”, which is inside this field"
    return ""


def _schema_gaps(rules: Sequence[Rule], schema: Mapping) -> list[RuleError]:
    errors = []
    for rule in rules:
        unknown = schema_checks.unknown_field(schema, rule.target)
        if unknown:
            reason = f"the field “{unknown}” is not an input of this action"
            errors.append(RuleError(rule.target, rule_message(rule.target, reason)))
    targets = [rule.target for rule in rules]
    return errors + [
        RuleError("", problem.message)
        for problem in schema_checks.unfilled_required(schema, targets)
    ]


def _schema_errors(
    output: Mapping, schema: Mapping, targets: Sequence[str], failed: Sequence[str]
) -> list[RuleError]:
    """Schema problems, attributed to the rule that filled the field.

    Problems caused by a rule that already failed are dropped: the rule's own
    error says more than "the field is required".
    """
    return [
        RuleError(_owner(problem.path, targets), problem.message)
        for problem in schema_checks.validate(output, schema)
        if not any(_related(problem.path, target) for target in failed if target)
    ]


def _owner(path: str, targets: Sequence[str]) -> str:
    """The rule target that produced the field at `path`, or ""."""
    for target in targets:
        if path == target or path.startswith(f"{target}."):
            return target
    return ""


def _related(path: str, target: str) -> bool:
    return (
        path == target or path.startswith(f"{target}.") or target.startswith(f"{path}.")
    )
