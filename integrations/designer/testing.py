"""Sample data for the designer: what a step's mapping sees (the trigger's
sample and what earlier steps gave when they were tested or last ran), a
live preview of a mapping, and a step tried for real against its system
without a run.

A test is kept as a ``StepTest`` (the latest few per step), never as a run:
it moves no document, opens no task and counts in no report.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from pydantic import TypeAdapter, ValidationError

from connectors import registry
from connectors.base import ActionContext, describe_errors
from connectors.errors import ConnectorError
from connectors.models import Connection
from integrations import flow_templates
from integrations.definition import ActionStep, Step
from integrations.engine.connections import connector_for
from integrations.mapping import apply_mapping, evaluate
from integrations.mapping.errors import MappingFailed
from integrations.mapping.rules import preview
from integrations.models import Flow, FlowRun, RunStatus, StepTest

KEEP_TESTS = 5
MAX_FIELDS = 300
_STEP = TypeAdapter(Step)


def sample_of(flow: Flow) -> dict[str, Any]:
    """The trigger data to design with: the one saved for the flow, else the
    template's sample, else the last run's trigger data, else nothing."""
    if isinstance(flow.sample, dict):
        return flow.sample
    text = flow_templates.sample_payload(flow)
    if text != "{}":
        return json.loads(text)
    last = (
        FlowRun.objects.filter(flow=flow)
        .order_by("-created_at")
        .only("payload")
        .first()
    )
    return dict(last.payload) if last and isinstance(last.payload, dict) else {}


def scope_for(flow: Flow, definition: dict[str, Any], key: str) -> dict[str, Any]:
    """What step ``key`` would see: the sample trigger data and, for each
    earlier step, its latest successful test or else its output in the
    flow's last successful run."""
    earlier: list[str] = []
    for step in definition.get("steps") or []:
        if step["key"] == key:
            break
        earlier.append(step["key"])
    outputs: dict[str, Any] = {}
    if earlier:
        last = (
            FlowRun.objects.filter(flow=flow, status=RunStatus.SUCCEEDED)
            .order_by("-created_at")
            .only("context")
            .first()
        )
        if last is not None:
            done = (last.context or {}).get("steps", {})
            outputs.update({k: done[k] for k in earlier if k in done})
        tested = {}
        for test in StepTest.objects.filter(
            flow=flow, step_key__in=earlier, ok=True
        ).order_by("created_at"):
            tested[test.step_key] = test.output
        outputs.update(tested)
    return {
        "trigger": sample_of(flow),
        "steps": outputs,
        "vars": {},
        "run": {"id": 0, "flow": flow.name, "event_id": "", "source_ref": "test"},
    }


def fields_of(scope: dict[str, Any]) -> list[str]:
    """Every field path in ``scope`` (``trigger.body.number``...), for the
    mapping editor's suggestions."""
    found: list[str] = []

    def walk(value: Any, path: str, depth: int) -> None:
        if len(found) >= MAX_FIELDS:
            return
        if path:
            found.append(path)
        if depth >= 5:
            return
        if isinstance(value, dict):
            for name, inner in value.items():
                if isinstance(name, str) and name.isidentifier():
                    walk(inner, f"{path}.{name}" if path else name, depth + 1)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            walk(value[0], f"{path}[0]", depth + 1)

    for root in ("trigger", "steps", "vars"):
        walk(scope.get(root), root, 0)
    return found


def input_schema(
    step: dict[str, Any], connection: Connection | None = None
) -> dict[str, Any]:
    """The JSON Schema of an action step's input ({} when unknown), from the
    connector's class: nothing is signed in to, no secret is read."""
    if step.get("type") != "action" or not step.get("connection"):
        return {}
    if connection is None or connection.pk != step["connection"]:
        connection = Connection.objects.filter(pk=step["connection"]).first()
    if connection is None or connection.connector_key not in registry.connectors():
        return {}
    spec = connection.connector_class.actions.get(str(step.get("action") or ""))
    return spec.input.model_json_schema() if spec else {}


def preview_step(
    flow: Flow,
    definition: dict[str, Any],
    step: dict[str, Any],
    scope: dict[str, Any] | None = None,
    connection: Connection | None = None,
) -> dict[str, Any]:
    """The mapped record of an action step on the sample (or ``scope``), with
    the error of each field that could not be mapped."""
    scope = scope if scope is not None else scope_for(flow, definition, step["key"])
    result = preview(
        step.get("mapping") or [],
        scope,
        schema=input_schema(step, connection) or None,
        tables=definition.get("tables") or {},
    )
    return {
        "record": result.output,
        "errors": [{"target": e.target, "message": e.message} for e in result.errors],
    }


def test_step(flow: Flow, definition: dict[str, Any], key: str, user: Any) -> StepTest:
    """Try the step ``key`` of ``definition`` on the sample data."""
    step = next((s for s in definition.get("steps") or [] if s["key"] == key), None)
    if step is None:
        raise ValueError(f"The flow has no step “{key}”.")
    scope = scope_for(flow, definition, key)
    started = time.perf_counter()
    params: Any = None
    try:
        model = _STEP.validate_python(step)
        output, params = _try(model, step, scope, definition)
        ok, error = True, ""
    except ValidationError as problem:
        output, ok, error = None, False, describe_errors(problem)
    except MappingFailed as problem:
        output, ok, error = None, False, str(problem)
    except ConnectorError as problem:
        output, ok, error = None, False, problem.message
    except ValueError as problem:
        output, ok, error = None, False, str(problem)
    test = StepTest.objects.create(
        flow=flow,
        step_key=key,
        ok=ok,
        input=params,
        output=output,
        error=error,
        duration_ms=int((time.perf_counter() - started) * 1000),
        created_by=user if getattr(user, "pk", None) else None,
    )
    stale = StepTest.objects.filter(flow=flow, step_key=key).values_list(
        "pk", flat=True
    )
    StepTest.objects.filter(pk__in=list(stale[KEEP_TESTS:])).delete()
    return test


def _try(
    model: Any, step: dict[str, Any], scope: dict[str, Any], definition: dict[str, Any]
) -> tuple[Any, Any]:
    """(output, input) of one step on the sample."""
    if isinstance(model, ActionStep):
        if model.document:
            raise ValueError(
                "This step sends a document: try it with a run of the whole flow "
                "(Run now), so that the document is there and kept in the ledger."
            )
        _, connector = connector_for(model.connection)
        schema = input_schema(step)
        params = apply_mapping(
            model.mapping, scope, schema=schema, tables=definition.get("tables") or {}
        )
        output, _documents = connector.run_action(
            model.action,
            params,
            ActionContext(idempotency_key=f"xc-test-{uuid.uuid4().hex}"),
        )
        return output, params
    if model.type == "condition":
        value = evaluate(model.expression, scope)
        return {"true": bool(value), "value": value}, None
    if model.type == "router":
        for route in model.routes:
            if evaluate(route.when, scope):
                return {"route": route.when, "goto": route.goto}, None
        return {"route": "default", "goto": model.default}, None
    if model.type == "set":
        return {v.name: evaluate(v.expression, scope) for v in model.variables}, None
    raise ValueError(
        "Only actions, conditions, routers and variables can be tried on their "
        "own; this step is tried when the flow runs."
    )
