"""What each kind of step does, given the run so far.

A handler returns ``Done`` (go on), ``Pause`` (wait for time or a person) or
raises: ``TransientError`` (try the step again later), ``PermanentError``
or ``MappingFailed`` (a person must look), ``RateLimited`` (the connection's
budget for this minute is spent). Handlers never write the run: the runner
commits what they return, fenced by the run's token.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connectors.base import ActionContext
from connectors.errors import ConnectorError, PermanentError
from connectors.models import Connection
from integrations import blobs
from integrations.definition import (
    END,
    ActionStep,
    ConditionStep,
    LookupStep,
    RouterStep,
    SetStep,
    WaitStep,
)
from integrations.engine.connections import connector_for, wait_for_rate_limit
from integrations.mapping import MappingFailed, apply_mapping, evaluate, preview
from integrations.models import (
    AttemptOutcome,
    Transfer,
    TransferAttempt,
    TransferStatus,
)

if TYPE_CHECKING:
    from integrations.engine.runner import Execution


class RateLimited(Exception):
    def __init__(self, seconds: float, connection: Connection) -> None:
        super().__init__(f"rate limit of {connection}")
        self.seconds = seconds
        self.connection = connection


class StepStopped(PermanentError):
    """A condition with ``otherwise: fail`` was false."""


class MissingDocument(PermanentError):
    """A step sends a document that its source did not provide."""


def with_overrides(
    rules: list[dict[str, Any]], overrides: dict[str, Any]
) -> list[dict[str, Any]]:
    """The step's rules, with a reviewer's values in place of the rules for
    the same fields (a JSON value is a JSONata constant)."""
    if not overrides:
        return rules
    kept = [
        rule
        for rule in rules
        if not any(
            rule.get("target") == field
            or rule.get("target", "").startswith(f"{field}.")
            for field in overrides
        )
    ]
    return kept + [
        {"target": field, "expression": json.dumps(value)}
        for field, value in overrides.items()
    ]


@dataclass
class TransferWork:
    """The ledger row and attempt of a document the current step sends."""

    transfer: Transfer
    attempt: TransferAttempt | None
    document: dict[str, Any]
    connection: Connection
    reconciled: bool = False


@dataclass
class Done:
    input: Any = None
    output: Any = None
    goto: str = ""  # a step key or END; empty: the step's ``next`` or the one after
    stop: str = ""  # a reason to end the run now (a condition said stop)
    variables: dict[str, Any] = field(default_factory=dict)
    documents: list[dict[str, Any]] | None = None
    transfer: TransferWork | None = None
    note: str = ""


@dataclass
class Pause:
    input: Any = None
    until: datetime | None = None  # None: until a person decides
    task: dict[str, Any] | None = None  # the ReviewTask to open


def expression(step_label: str, source: str, scope: dict[str, Any]) -> Any:
    """Evaluate ``source``; a broken expression stops the step for review."""
    try:
        return evaluate(source, scope)
    except ValueError as error:
        raise PermanentError(f"Step “{step_label}”: {error}") from None


@functools.lru_cache(maxsize=512)
def _input_schema(connector_key: str, version: str, action: str) -> dict[str, Any]:
    from connectors.registry import get_connector

    return get_connector(connector_key).actions[action].input.model_json_schema()


# --- Handlers --------------------------------------------------------------


def run_action(execution: Execution, step: ActionStep) -> Done:
    scope = execution.scope()
    connection, connector = connector_for(step.connection)
    spec = connector.actions.get(step.action)
    if spec is None:
        raise PermanentError(
            f"{connector.label} has no action “{step.action}” any more: pick "
            "another action for this step and publish the flow again."
        )
    schema = _input_schema(connector.key, connector.version, step.action)
    overrides = execution.run.context.get("overrides", {}).get(step.key, {})
    params = apply_mapping(
        with_overrides(step.mapping, overrides),
        scope,
        schema=schema,
        tables=execution.definition.tables,
    )
    work = None
    documents = []
    if step.document:
        ref = _document_of(execution, step)
        work = _begin_transfer(execution, step, connection, ref, scope)
        if work.reconciled:
            execution.transfer = work
            return Done(
                input=params,
                output=work.transfer.output,
                transfer=work,
                note=f"Sent before by run {work.transfer.run_id}; not sent again.",
            )
    if wait := wait_for_rate_limit(connection):
        raise RateLimited(wait, connection)
    if work is not None:
        work.attempt = TransferAttempt.objects.create(
            transfer=work.transfer, run=execution.run, run_attempt=execution.token
        )
        execution.transfer = work
        documents = [blobs.open_document(work.document)]
    key = (
        work.transfer.idempotency_key
        if work
        else f"xc-run-{execution.run.source_ref}-{step.key}"
    )
    context = ActionContext(
        idempotency_key=key,
        run_id=execution.run.pk,
        correlation_id=f"run-{execution.run.pk}",
        documents=documents,
    )
    output, produced = connector.run_action(step.action, params, context)
    kept = [blobs.keep(document) for document in produced]
    if work is not None:
        work.transfer.target_ref = _target_ref(step, output, scope)
    return Done(input=params, output=output, documents=kept or None, transfer=work)


def check_condition(execution: Execution, step: ConditionStep) -> Done:
    value = expression(step.label, step.expression, execution.scope())
    if _truthy(value):
        return Done(input={"expression": step.expression}, output={"result": True})
    reason = step.message or f"The condition “{step.label}” was not met."
    if step.otherwise == "fail":
        raise StepStopped(reason)
    return Done(
        input={"expression": step.expression}, output={"result": False}, stop=reason
    )


def route(execution: Execution, step: RouterStep) -> Done:
    scope = execution.scope()
    for number, option in enumerate(step.routes, start=1):
        if _truthy(expression(step.label, option.when, scope)):
            return Done(output={"route": number, "goto": option.goto}, goto=option.goto)
    if not step.default:
        raise PermanentError(
            f"No route of “{step.label}” matched and it has no default route."
        )
    return Done(output={"route": "default", "goto": step.default}, goto=step.default)


def wait(execution: Execution, step: WaitStep) -> Done | Pause:
    waits = execution.run.context.get("waits", {})
    now = timezone.now()
    until = parse_datetime(waits[step.key]) if step.key in waits else None
    if until is None:
        until = now + timedelta(seconds=step.seconds)
        return Pause(input={"seconds": step.seconds}, until=until)
    if now < until:
        return Pause(input={"seconds": step.seconds}, until=until)
    return Done(
        input={"seconds": step.seconds}, output={"waited_until": until.isoformat()}
    )


def look_up(execution: Execution, step: LookupStep) -> Done:
    value = expression(step.label, step.lookup, execution.scope())
    key = "" if value is None else str(value)
    if key in step.table:
        found = step.table[key]
    elif step.required and step.default is None:
        known = ", ".join(list(step.table)[:10])
        raise PermanentError(
            f"Step “{step.label}”: “{key}” is not in the lookup table (it knows "
            f"{known}). Add it to the table, then replay the run."
        )
    else:
        found = step.default
    return Done(
        input={"lookup": key}, output={step.into: found}, variables={step.into: found}
    )


def set_variables(execution: Execution, step: SetStep) -> Done:
    scope = execution.scope()
    values = {}
    for variable in step.variables:
        values[variable.name] = expression(step.label, variable.expression, scope)
        scope["vars"] = {**scope["vars"], variable.name: values[variable.name]}
    return Done(output=values, variables=values)


# --- What a reviewer must supply ------------------------------------------------


# The system a step talks to when it has no connection of its own.
STEP_SYSTEMS = {"workspace": "otcs", "file": "otcs", "sync": "dynamics"}


def system_of(step: Any) -> str:
    """The connector key of the system ``step`` talks to ("" for none), for
    the inbox and the dashboard; the connection comes from the cache the
    step itself used."""
    if isinstance(step, ActionStep):
        try:
            return connector_for(step.connection)[0].connector_key
        except ConnectorError:
            return ""
    return STEP_SYSTEMS.get(step.type, "")


def fields_to_complete(
    execution: Execution, step: ActionStep, error: MappingFailed
) -> dict[str, Any]:
    """The action's input fields a reviewer must fill, with their schemas.

    The fields whose rules failed, plus required fields the mapping left
    empty (schema-level problems name no rule).
    """
    try:
        _, connector = connector_for(step.connection)
    except PermanentError:
        return {}
    schema = _input_schema(connector.key, connector.version, step.action)
    names = {problem.target.split(".")[0] for problem in error.errors if problem.target}
    if any(not problem.target for problem in error.errors):
        overrides = execution.run.context.get("overrides", {}).get(step.key, {})
        built = preview(
            with_overrides(step.mapping, overrides),
            execution.scope(),
            schema=schema,
            tables=execution.definition.tables,
        )
        names |= {
            name
            for name in schema.get("required", [])
            if built.output.get(name) in (None, "")
        }
    properties = schema.get("properties", {})
    return {name: properties.get(name, {}) for name in sorted(names)}


# --- Helpers ----------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", 0, [], {}) and value != "false"


def _document_of(execution: Execution, step: ActionStep) -> dict[str, Any]:
    refs = execution.run.context.get("documents", {}).get(step.document) or []
    if not refs:
        source = (
            "the trigger" if step.document == "trigger" else f"step “{step.document}”"
        )
        raise MissingDocument(
            f"Step “{step.label}” sends a document from {source}, but there is none."
        )
    return refs[0]


def _begin_transfer(
    execution: Execution,
    step: ActionStep,
    connection: Connection,
    ref: dict[str, Any],
    scope: dict[str, Any],
) -> TransferWork:
    """Find or open the ledger row of the document this step sends."""
    run = execution.run
    spec = step.transfer
    source_system = _text(step, spec.source_system, scope) or execution.source_system()
    source_id = _text(step, spec.source_id, scope) or run.source_ref
    version = _text(step, spec.source_version, scope) or "1"
    transfer, _ = Transfer.objects.get_or_create(
        flow_id=run.flow_id,
        source_system=source_system[:200],
        source_id=source_id[:300],
        source_version=version[:100],
        defaults={
            "name": ref.get("name", "")[:500],
            "media_type": ref.get("media_type", "")[:200],
            "size": ref.get("size"),
            "sha256": ref.get("sha256", ""),
            "target_system": connection.name[:200],
            "run": run,
            "step_key": step.key,
        },
    )
    reconciled = transfer.status == TransferStatus.DONE
    return TransferWork(transfer, None, ref, connection, reconciled=reconciled)


def _text(step: ActionStep, source: str, scope: dict[str, Any]) -> str:
    if not source:
        return ""
    value = expression(step.label, source, scope)
    return "" if value is None else str(value)


TARGET_KEYS = ("node_id", "id", "document_id", "target_ref", "workspace_id")


def _target_ref(step: ActionStep, output: dict[str, Any], scope: dict[str, Any]) -> str:
    if step.transfer.target_ref:
        value = expression(
            step.label, step.transfer.target_ref, {**scope, "output": output}
        )
        return "" if value is None else str(value)[:300]
    for key in TARGET_KEYS:
        if output.get(key) not in (None, ""):
            return str(output[key])[:300]
    return ""


__all__ = ["END", "AttemptOutcome", "Done", "Pause", "RateLimited"]
