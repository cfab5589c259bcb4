"""The designer's draft of a flow: edited step by step, saved at once (it
may be incomplete: the page says what is not ready), undone one change at a
time, and published as the flow's next version with a note.

What is not ready is said per step (a badge on its box) and for the flow
as a whole, in the words ``services.validate_definition`` uses at publish.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from pydantic import TypeAdapter, ValidationError

from connectors.base import describe_errors
from integrations import services
from integrations.definition import ActionStep, Step, TriggerDef
from integrations.models import Flow, FlowVersion

HISTORY = 20  # drafts kept for "Undo"
EMPTY = {"trigger": {"type": "manual"}, "steps": []}
_STEP = TypeAdapter(Step)
_KEY = re.compile(r"[^a-z0-9_]+")


class DraftError(Exception):
    """What the admin asked cannot be done to the draft; said in words."""


def draft_of(flow: Flow) -> dict[str, Any]:
    """The draft, else the published definition, else an empty flow."""
    if flow.draft is not None:
        return copy.deepcopy(flow.draft)
    version = flow.published_version
    return copy.deepcopy(version.definition if version else EMPTY)


def has_changes(flow: Flow) -> bool:
    version = flow.published_version
    return flow.draft is not None and (
        version is None or flow.draft != version.definition
    )


@transaction.atomic
def save(flow: Flow, definition: dict[str, Any], user: Any) -> dict[str, Any]:
    """Keep ``definition`` as the draft; the one before goes to the history."""
    locked = Flow.objects.select_for_update().get(pk=flow.pk)
    previous = draft_of(locked)
    if previous == definition:
        return definition
    history = [previous, *(locked.draft_history or [])][:HISTORY]
    Flow.objects.filter(pk=flow.pk).update(
        draft=definition,
        draft_history=history,
        draft_updated_at=timezone.now(),
        draft_updated_by=user,
    )
    flow.draft, flow.draft_history = definition, history
    return definition


@transaction.atomic
def undo(flow: Flow, user: Any) -> bool:
    """Go back to the draft before the last change; False if there is none."""
    locked = Flow.objects.select_for_update().get(pk=flow.pk)
    history = list(locked.draft_history or [])
    if not history:
        return False
    restored, rest = history[0], history[1:]
    Flow.objects.filter(pk=flow.pk).update(
        draft=restored,
        draft_history=rest,
        draft_updated_at=timezone.now(),
        draft_updated_by=user,
    )
    flow.draft, flow.draft_history = restored, rest
    return True


@transaction.atomic
def discard(flow: Flow) -> None:
    Flow.objects.filter(pk=flow.pk).update(
        draft=None, draft_history=[], draft_updated_at=None, draft_updated_by=None
    )
    flow.draft, flow.draft_history = None, []


def publish(flow: Flow, user: Any, note: str) -> FlowVersion:
    """The draft as the flow's next version (``InvalidDefinition`` if it is
    not ready); the draft is then done with."""
    if not note.strip():
        raise DraftError("Say in a few words what this version changes.")
    with transaction.atomic():
        version = services.publish_version(flow, draft_of(flow), user, note=note)
        discard(flow)
    flow.refresh_from_db()
    return version


# --- Editing ---------------------------------------------------------------------


def new_key(definition: dict[str, Any], name: str) -> str:
    """A step key from its name, unique in the flow."""
    base = _KEY.sub("_", name.lower()).strip("_")[:40] or "step"
    if base[0].isdigit():
        base = f"step_{base}"
    taken = {step["key"] for step in definition.get("steps") or []}
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def find(definition: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    for index, step in enumerate(definition.get("steps") or []):
        if step["key"] == key:
            return index, step
    raise DraftError(f"The flow has no step “{key}” (it may have been deleted).")


def add_step(
    definition: dict[str, Any], step: dict[str, Any], after: str = ""
) -> dict[str, Any]:
    """``step`` (given a unique key from its name) after the step ``after``
    (first when empty)."""
    result = copy.deepcopy(definition)
    steps = result.setdefault("steps", [])
    step = {**step, "key": new_key(result, str(step.get("name") or step["type"]))}
    position = find(result, after)[0] + 1 if after else 0
    steps.insert(position, step)
    return result


def delete_step(definition: dict[str, Any], key: str) -> dict[str, Any]:
    result = copy.deepcopy(definition)
    index, _ = find(result, key)
    del result["steps"][index]
    return result


def move_step(definition: dict[str, Any], key: str, to: int) -> dict[str, Any]:
    """The step ``key`` at position ``to`` (0 is first; clamped)."""
    result = copy.deepcopy(definition)
    index, step = find(result, key)
    steps = result["steps"]
    del steps[index]
    steps.insert(max(0, min(to, len(steps))), step)
    return result


def replace_step(
    definition: dict[str, Any], key: str, step: dict[str, Any]
) -> dict[str, Any]:
    result = copy.deepcopy(definition)
    index, old = find(result, key)
    result["steps"][index] = {**step, "key": old["key"], "type": old["type"]}
    return result


# --- What is not ready -----------------------------------------------------------


def problems(definition: dict[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """(what is not ready per step key, what is not ready in the flow)."""
    per_step: dict[str, list[str]] = {}
    steps = definition.get("steps") or []
    keys = {step.get("key") for step in steps}
    actions: list[ActionStep] = []
    for step in steps:
        said: list[str] = []
        try:
            model = _STEP.validate_python(step)
        except ValidationError as error:
            said.append(describe_errors(error))
        else:
            if isinstance(model, ActionStep):
                actions.append(model)
        for target in _jumps(step):
            if target not in keys and target != "end":
                said.append(f"It goes to “{target}”, which is not a step of this flow.")
        if said:
            per_step[str(step.get("key"))] = said
    # the action steps' connections, actions and mappings, in one query
    tables = definition.get("tables") or {}
    for problem in services.action_problems(actions, tables):
        for model in actions:
            prefix = f"Step “{model.label}”: "
            if problem.startswith(prefix):
                per_step.setdefault(model.key, []).append(problem.removeprefix(prefix))
    general: list[str] = []
    try:
        TriggerDef.model_validate(definition.get("trigger") or {})
    except ValidationError as error:
        general.append(f"The trigger: {describe_errors(error)}")
    if not steps:
        general.append("Add a first step: what should happen when the flow starts?")
    return per_step, general


def _jumps(step: dict[str, Any]) -> list[str]:
    found = [step.get("next") or ""]
    found += [route.get("goto", "") for route in step.get("routes") or []]
    found += [step.get("default") or "", step.get("on_reject") or ""]
    return [target for target in found if target]
