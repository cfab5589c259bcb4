"""Decision steps: a reviewer approves or rejects (``approval``), or accepts
or rejects a difference between values that should match (``reconcile``).

Each pauses the run with a review task; ``services.decide_approval`` keeps the
decision in the run's context and queues the run at the same step, which then
records the decision as its output and goes on, or to its ``on_reject`` step.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from integrations.definition import ApprovalStep, DecisionStep, ReconcileStep
from integrations.engine.steps import Done, Pause, StepStopped, expression

if TYPE_CHECKING:
    from integrations.engine.runner import Execution


def ask_approval(execution: Execution, step: ApprovalStep) -> Done | Pause:
    decision = execution.run.context.get("approvals", {}).get(step.key)
    if decision:  # decided while the run waited: carry on
        return decided(step, decision)
    title = step.title or f"Approve “{execution.run.flow.name}”"
    return Pause(
        input={"group": step.group},
        task={
            "kind": "approval",
            "queue": step.group,
            "title": title[:300],
            "reason": step.instructions,
        },
    )


def decided(step: DecisionStep, decision: dict[str, Any], **output: Any) -> Done:
    """A decision step once a reviewer decided: the decision is its output;
    approved, the run goes on; rejected, it goes to the step's ``on_reject``
    (the review services end a run whose step has none)."""
    if decision.get("approved"):
        return Done(output={**decision, **output})
    if not step.on_reject:
        raise StepStopped(f"“{step.label}” was rejected: {decision.get('comment')}")
    return Done(output={**decision, **output}, goto=step.on_reject)


def reconcile(execution: Execution, step: ReconcileStep) -> Done | Pause:
    scope = execution.scope()
    checks = [
        compare(
            check.name,
            expression(step.label, check.expected, scope),
            expression(step.label, check.actual, scope),
            check.tolerance,
        )
        for check in step.checks
    ]
    differences = [check for check in checks if not check["matched"]]
    if not differences:
        return Done(
            input={"checks": len(checks)}, output={"matched": True, "checks": checks}
        )
    decision = execution.run.context.get("approvals", {}).get(step.key)
    if decision:  # a reviewer decided on the difference while the run waited
        return decided(step, decision, matched=False, checks=checks)
    count = len(differences)
    title = step.title or (
        f"“{step.label}”: {count} difference{'s' if count != 1 else ''} to check"
    )
    return Pause(
        input={"checks": checks},
        task={
            "kind": "reconciliation",
            "queue": step.group,
            "title": title[:300],
            "reason": "; ".join(difference_text(check) for check in differences),
            "needed": {"checks": checks},
        },
    )


def compare(name: str, expected: Any, actual: Any, tolerance: float) -> dict[str, Any]:
    """One check of a reconciliation: numbers (or text that reads as one, as
    EDI carries amounts) within ``tolerance``, anything else equal after
    trimming text."""
    result: dict[str, Any] = {"name": name, "expected": expected, "actual": actual}
    left, right = _number(expected), _number(actual)
    if left is not None and right is not None:
        difference = right - left
        result["difference"] = float(difference)
        result["matched"] = abs(difference) <= Decimal(str(tolerance))
    else:
        result["matched"] = _plain(expected) == _plain(actual)
    return result


def difference_text(check: dict[str, Any]) -> str:
    """ "Total: expected 1200, found 1150 (50 less)"."""
    text = (
        f"{check['name']}: expected {_shown(check['expected'])}, "
        f"found {_shown(check['actual'])}"
    )
    difference = check.get("difference")
    if difference:
        more = "more" if difference > 0 else "less"
        text += f" ({_shown(abs(difference))} {more})"
    return text


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _plain(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "nothing"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int | float):
        return f"{value:,}"
    return f"“{value}”" if isinstance(value, str) else json.dumps(value)
