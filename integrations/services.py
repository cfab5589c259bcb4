"""The only way in: create and publish flows, start, replay and cancel runs,
decide approvals. Views, the API and tasks call these; each change and its
audit event commit together.
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from pydantic import TypeAdapter, ValidationError

from audit.services import Actor, Event, EventType, record_config_change, record_many
from connectors.base import describe_errors
from connectors.errors import PermanentError
from connectors.models import Connection
from connectors.registry import get_connector
from integrations.definition import (
    ActionStep,
    DecisionStep,
    Definition,
    FileStep,
    Step,
    WorkspaceStep,
)
from integrations.engine.claims import enqueue
from integrations.engine.runner import start_followers
from integrations.engine.starts import create_run, definition_of
from integrations.mapping import check_rules
from integrations.mapping.errors import ExpressionError
from integrations.mapping.expressions import check_expression
from integrations.models import (
    DECISION_KINDS,
    PENDING_STATUSES,
    Flow,
    FlowRun,
    FlowStatus,
    FlowVersion,
    FlowVersionConnection,
    ReviewTask,
    RunStatus,
    TaskStatus,
)
from integrations.triggers import sync_schedule

__all__ = [
    "InvalidDefinition",
    "cancel_run",
    "create_flow",
    "decide_approval",
    "publish_version",
    "replay_run",
    "set_status",
    "start_run",
]


class InvalidDefinition(Exception):
    """A flow definition that cannot be published; ``problems`` says why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


# --- Flows -------------------------------------------------------------------


def create_flow(
    name: str,
    definition: dict[str, Any],
    user: Any,
    *,
    description: str = "",
    note: str = "First version",
    activate: bool = False,
    max_concurrent_runs: int = 10,
) -> Flow:
    """A new flow with its first published version."""
    with transaction.atomic():
        flow = Flow.objects.create(
            name=name,
            description=description,
            owner=user,
            max_concurrent_runs=max_concurrent_runs,
        )
        record_config_change(
            Actor.user(user),
            object_type="Flow",
            object_id=flow.pk,
            object_name=flow.name,
            before=None,
            after=flow.audit_view(),
            flow_id=flow.pk,
        )
        publish_version(flow, definition, user, note=note)
        if activate:
            flow = set_status(flow, FlowStatus.ACTIVE, user)
    flow.refresh_from_db()
    return flow


def validate_definition(definition: dict[str, Any]) -> Definition:
    """Parse and check a definition; ``InvalidDefinition`` lists every problem."""
    try:
        parsed = Definition.model_validate(definition)
    except ValidationError as error:
        # Still check the steps that parse, so one round lists every problem.
        steps = _steps_that_parse(definition)
        tables = definition.get("tables") if isinstance(definition, dict) else None
        raise InvalidDefinition(
            [
                describe_errors(error),
                *action_problems(steps, tables if isinstance(tables, dict) else {}),
            ]
        ) from None
    problems: list[str] = []
    connections = Connection.objects.in_bulk(_connection_ids(parsed))
    trigger = parsed.trigger
    if trigger.connection is not None:
        connection = connections.get(trigger.connection)
        if connection is None:
            problems.append("The trigger's connection does not exist.")
        else:
            key = trigger.trigger or ("receive" if trigger.type == "webhook" else "")
            spec = _connector(connection).triggers.get(key)
            if spec is None or spec.kind != trigger.type:
                problems.append(
                    f"{connection.name} has no {trigger.type} trigger “{key}”."
                )
    if (
        trigger.type == "flow_finished"
        and not Flow.objects.filter(pk=trigger.flow).exists()
    ):
        problems.append("The flow this one follows does not exist.")
    problems += action_problems(parsed.steps, parsed.tables)
    problems += _workspace_problems(parsed.steps, trigger)
    if parsed.business_key:
        try:
            check_expression(parsed.business_key)
        except ExpressionError as error:
            problems.append(f"The business key: {error.reason}.")
    if problems:
        raise InvalidDefinition(problems)
    return parsed


def _steps_that_parse(definition: Any) -> list[Any]:
    raw = definition.get("steps") if isinstance(definition, dict) else None
    steps = []
    for item in raw if isinstance(raw, list) else []:
        try:
            steps.append(_STEP.validate_python(item))
        except ValidationError:
            continue
    return steps


_STEP: TypeAdapter[Any] = TypeAdapter(Step)


def _workspace_problems(steps: list[Any], trigger: Any) -> list[str]:
    """Workspace and file steps (and a workspace-complete trigger) name a
    workspace type, and a document type of its checklist, that exist."""
    from workspaces.models import WorkspaceType

    wanted = [step for step in steps if isinstance(step, WorkspaceStep | FileStep)]
    keys = {step.workspace_type for step in wanted}
    if trigger.type == "workspace_complete":
        keys.add(trigger.workspace_type)
    if not keys:
        return []
    types = {
        wtype.key: {r.document_type for r in wtype.requirements.all()}
        for wtype in WorkspaceType.objects.filter(key__in=keys).prefetch_related(
            "requirements"
        )
    }
    problems = []
    if trigger.type == "workspace_complete" and trigger.workspace_type not in types:
        problems.append(f"There is no workspace type “{trigger.workspace_type}”.")
    for step in wanted:
        if step.workspace_type not in types:
            problems.append(
                f"Step “{step.label}”: there is no workspace type "
                f"“{step.workspace_type}”."
            )
        elif (
            isinstance(step, FileStep)
            and step.document_type
            and step.document_type not in types[step.workspace_type]
        ):
            problems.append(
                f"Step “{step.label}”: the workspace type “{step.workspace_type}” "
                f"has no document type “{step.document_type}” in its checklist."
            )
    return problems


def action_problems(steps: list[Any], tables: dict[str, Any]) -> list[str]:
    """What is wrong with the action steps' connections, actions and mappings."""
    problems: list[str] = []
    actions = [step for step in steps if isinstance(step, ActionStep)]
    connections = Connection.objects.in_bulk({step.connection for step in actions})
    for step in actions:
        connection = connections.get(step.connection)
        if connection is None:
            problems.append(f"Step “{step.label}”: its connection does not exist.")
            continue
        spec = _connector(connection).actions.get(step.action)
        if spec is None:
            problems.append(
                f"Step “{step.label}”: {connection.name} has no action “{step.action}”."
            )
            continue
        for error in check_rules(
            step.mapping, spec.input.model_json_schema(), tables=tables
        ):
            problems.append(f"Step “{step.label}”: {error}")
    return problems


def publish_version(
    flow: Flow, definition: dict[str, Any], user: Any, *, note: str = ""
) -> FlowVersion:
    """Validate ``definition`` and make it the flow's next, current version."""
    parsed = validate_definition(definition)
    with transaction.atomic():
        flow = Flow.objects.select_for_update().get(pk=flow.pk)
        before = flow.audit_view()
        last = (
            flow.versions.order_by("-number").values_list("number", flat=True).first()
        )
        version = FlowVersion.objects.create(
            flow=flow,
            number=(last or 0) + 1,
            definition=parsed.model_dump(mode="json", by_alias=True),
            author=user,
            note=note[:500],
        )
        FlowVersionConnection.objects.bulk_create(
            [
                FlowVersionConnection(version=version, connection_id=pk)
                for pk in sorted(_connection_ids(parsed))
            ]
        )
        flow.published_version = version
        flow.save(update_fields=["published_version", "updated_at"])
        record_config_change(
            Actor.user(user),
            object_type="Flow",
            object_id=flow.pk,
            object_name=flow.name,
            before={**before, "definition": _previous_definition(flow, version)},
            after={**flow.audit_view(), "definition": version.definition},
            flow_id=flow.pk,
        )
        sync_schedule(flow)
    return version


def set_status(flow: Flow, status: str, user: Any) -> Flow:
    """Activate or pause a flow (its trigger's beat entry follows)."""
    with transaction.atomic():
        flow = Flow.objects.select_for_update().get(pk=flow.pk)
        if status == FlowStatus.ACTIVE and flow.published_version_id is None:
            raise InvalidDefinition(["Publish a version before activating the flow."])
        before = flow.audit_view()
        flow.status = status
        flow.save(update_fields=["status", "updated_at"])
        record_config_change(
            Actor.user(user),
            object_type="Flow",
            object_id=flow.pk,
            object_name=flow.name,
            before=before,
            after=flow.audit_view(),
            flow_id=flow.pk,
        )
        sync_schedule(flow)
    return flow


# --- Runs --------------------------------------------------------------------


def start_run(
    flow: Flow, payload: dict[str, Any], user: Any, *, idempotency_key: str = ""
) -> tuple[FlowRun, bool]:
    """Start a run by hand (or through the API) with a JSON payload.

    The same ``idempotency_key`` twice starts one run.
    """
    _require(user, "integrations.start_flowrun")
    if flow.published_version_id is None:
        raise InvalidDefinition(["Publish a version of the flow before running it."])
    with transaction.atomic():
        run, created = create_run(
            flow,
            payload=payload,
            trigger_kind="manual",
            event_id=f"manual-{idempotency_key}" if idempotency_key else "",
            started_by=user,
        )
        if created:
            record_many(
                [
                    _event(
                        EventType.RUN_STARTED,
                        user,
                        run,
                        f"Run {run.pk} of “{flow.name}” started by hand",
                    )
                ]
            )
    return run, created


def replay_run(
    run: FlowRun,
    user: Any,
    *,
    from_step: str = "failed",
    version: str = "pinned",
    payload: dict[str, Any] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    documents: dict[str, list[dict[str, Any]]] | None = None,
    comment: str = "",
    check_permission: bool = True,
) -> FlowRun:
    """Run a stopped run again as a new run; the old one becomes "replayed".

    ``from_step`` "failed" carries on from the step that stopped with what
    the earlier steps produced; "start" begins anew. ``version`` "pinned"
    keeps the run's version, "latest" takes the flow's published one (after
    a mapping was fixed, say). ``payload`` replaces the trigger's data (a
    reviewer's correction). ``overrides`` ({step key: {field: value}}) are
    values a reviewer entered for a step's input, used instead of the
    mapping's rules for those fields; ``documents`` ({source: [blob refs]})
    supplies documents a step was missing. Documents already transferred
    are not sent again: the transfer ledger keeps them once.
    ``check_permission`` is False only for ``reviews``: resolving a task one
    may change is the permission to replay its run.
    """
    if check_permission:
        _require(user, "integrations.replay_flowrun")
    with transaction.atomic():
        run = FlowRun.objects.select_for_update().select_related("flow").get(pk=run.pk)
        if run.status not in (
            RunStatus.NEEDS_REVIEW,
            RunStatus.FAILED,
            RunStatus.CANCELLED,
        ):
            raise PermanentError(
                f"Run {run.pk} is {run.get_status_display().lower()}; only a run "
                "that needs review, failed or was cancelled can be replayed."
            )
        target = run.flow.published_version if version == "latest" else run.version
        if target is None:
            raise PermanentError("The flow has no published version to replay on.")
        checkpoint = _resume_point(run, target) if from_step == "failed" else None
        carry_on = checkpoint is not None
        context = _replay_context(run, carry_on)
        for step_key, values in (overrides or {}).items():
            context.setdefault("overrides", {}).setdefault(step_key, {}).update(values)
        context.setdefault("documents", {}).update(documents or {})
        new_run, _ = create_run(
            run.flow,
            version=target,
            payload=run.payload if payload is None else payload,
            trigger_kind=run.trigger_kind,
            source_ref=run.source_ref,
            replay_of=run,
            started_by=user,
            context=context,
            checkpoint=checkpoint or 0,
        )
        FlowRun.objects.filter(pk=run.pk).update(
            status=RunStatus.REPLAYED, finished_at=timezone.now()
        )
        tasks = _close_tasks(run, user, "replayed", comment)
        record_many(
            [
                _event(
                    EventType.RUN_REPLAYED,
                    user,
                    run,
                    f"Run {run.pk} replayed as run {new_run.pk} "
                    f"(from {'the failed step' if carry_on else 'the start'}, "
                    f"version {target.number})",
                    payload={
                        "new_run": new_run.pk,
                        "from_step": "failed" if carry_on else "start",
                        "version": target.number,
                        "payload_changed": payload is not None,
                        "values_entered": sorted(
                            f"{key}.{field}"
                            for key, values in (overrides or {}).items()
                            for field in values
                        ),
                        "documents_supplied": sorted(documents or {}),
                        "comment": comment,
                    },
                ),
                *tasks,
            ]
        )
    return new_run


def cancel_run(run: FlowRun, user: Any, *, comment: str = "") -> FlowRun:
    """Stop a run that has not ended; a step in flight finishes but commits nothing."""
    _require(user, "integrations.cancel_flowrun")
    with transaction.atomic():
        run = FlowRun.objects.select_for_update().select_related("flow").get(pk=run.pk)
        if run.status not in (*_cancellable(),):
            raise PermanentError(
                f"Run {run.pk} is {run.get_status_display().lower()} and cannot "
                "be cancelled."
            )
        FlowRun.objects.filter(pk=run.pk).update(
            status=RunStatus.CANCELLED,
            finished_at=timezone.now(),
            lease_expires_at=None,
            next_attempt_at=None,
        )
        tasks = _close_tasks(run, user, "cancelled", comment)
        record_many(
            [
                _event(
                    EventType.RUN_CANCELLED,
                    user,
                    run,
                    f"Run {run.pk} of “{run.flow.name}” cancelled",
                    payload={"was": run.status, "comment": comment},
                ),
                *tasks,
            ]
        )
        run.refresh_from_db()
    return run


def decide_approval(
    task: ReviewTask, user: Any, *, approved: bool, comment: str = ""
) -> FlowRun:
    """A reviewer approves (the run goes on) or rejects it with a comment.

    A rejected run goes on at the approval step's ``on_reject`` step when it
    has one (with ``vars.approval`` holding the decision and comment, to send
    back), else it ends as failed. Whoever started the run may not decide
    on it (separation of duties).
    """
    _require(user, "integrations.change_reviewtask")
    if not approved and not comment.strip():
        raise PermanentError("Say why you reject it: the comment is required.")
    with transaction.atomic():
        # of=self: the run is a nullable join now (workspace tasks have none),
        # and PostgreSQL locks no row of an outer join's nullable side.
        task = (
            ReviewTask.objects.select_for_update(of=("self",))
            .select_related("run__flow")
            .get(pk=task.pk)
        )
        if task.kind not in DECISION_KINDS or not task.is_pending:
            raise PermanentError("This task is not an open approval any more.")
        if task.requested_by_id is not None and task.requested_by_id == user.pk:
            raise PermissionDenied(
                "You started this run, so someone else has to approve or reject it."
            )
        run = FlowRun.objects.select_for_update().get(pk=task.run_id)
        now = timezone.now()
        decision = "approved" if approved else "rejected"
        ReviewTask.objects.filter(pk=task.pk).update(
            status=TaskStatus.RESOLVED if approved else TaskStatus.REJECTED,
            decision=decision,
            comment=comment,
            resolution={"decision": decision, "comment": comment},
            resolved_at=now,
            resolved_by=user,
        )
        outcome = {
            "approved": approved,
            "decision": decision,
            "by": user.get_username(),
            "at": now.isoformat(),
            "comment": comment,
        }
        context = run.context
        context.setdefault("approvals", {})[task.step_key] = outcome
        context.setdefault("vars", {})["approval"] = outcome
        if approved or _goes_on_when_rejected(run, task.step_key):
            # The run goes on at the decision step: it records the decision
            # in the run's steps and goes on, or to its ``on_reject`` step.
            FlowRun.objects.filter(pk=run.pk, status=RunStatus.WAITING).update(
                status=RunStatus.QUEUED, context=context, enqueued_at=now
            )
            enqueue(run.pk)
        elif FlowRun.objects.filter(pk=run.pk, status=RunStatus.WAITING).update(
            status=RunStatus.FAILED,
            finished_at=now,
            error=f"Rejected by {user.get_username()}"
            + (f": {comment}" if comment else "."),
        ):
            start_followers(run, RunStatus.FAILED)
        record_many(
            [
                _event(
                    EventType.APPROVAL_GRANTED
                    if approved
                    else EventType.APPROVAL_REJECTED,
                    user,
                    run,
                    f"{task.title}: {decision} by {user.get_username()}",
                    payload={
                        "task": task.pk,
                        "step": task.step_key,
                        "comment": comment,
                    },
                )
            ]
        )
        run.refresh_from_db()
    return run


# --- Helpers -----------------------------------------------------------------


def _goes_on_when_rejected(run: FlowRun, step_key: str) -> bool:
    return any(
        step.key == step_key and isinstance(step, DecisionStep) and step.on_reject
        for step in definition_of(run.version).steps
    )


def _require(user: Any, permission: str) -> None:
    if user is not None and not user.has_perm(permission):
        raise PermissionDenied(f"You need the permission “{permission}”.")


def _cancellable() -> tuple[str, ...]:
    return (
        RunStatus.QUEUED,
        RunStatus.RUNNING,
        RunStatus.RETRYING,
        RunStatus.WAITING,
        RunStatus.NEEDS_REVIEW,
    )


def _connector(connection: Connection) -> Any:
    try:
        return get_connector(connection.connector_key)
    except PermanentError as error:
        raise InvalidDefinition([error.message]) from None


def _connection_ids(definition: Definition) -> set[int]:
    ids = {s.connection for s in definition.steps if isinstance(s, ActionStep)}
    if definition.trigger.connection is not None:
        ids.add(definition.trigger.connection)
    return ids


def _previous_definition(flow: Flow, version: FlowVersion) -> Any:
    previous = (
        flow.versions.exclude(pk=version.pk)
        .order_by("-number")
        .only("definition")
        .first()
    )
    return previous.definition if previous else None


def _resume_point(run: FlowRun, target: FlowVersion) -> int | None:
    """Where a replay on ``target`` picks up: the index of the step that
    stopped the run, found by its key (a fixed version keeps the key)."""
    steps = definition_of(run.version).steps
    if run.checkpoint >= len(steps):
        return None
    key = steps[run.checkpoint].key
    try:
        return definition_of(target).index_of(key)
    except KeyError:
        return None


def _replay_context(run: FlowRun, carry_on: bool) -> dict[str, Any]:
    if carry_on:
        context = copy.deepcopy(run.context)
        context.pop("waits", None)
        return context
    documents = run.context.get("documents", {}).get("trigger")
    return {
        "steps": {},
        "vars": {},
        "documents": {"trigger": documents} if documents else {},
    }


def _close_tasks(run: FlowRun, user: Any, decision: str, comment: str) -> list[Event]:
    tasks = list(ReviewTask.objects.filter(run=run, status__in=PENDING_STATUSES))
    if not tasks:
        return []
    ReviewTask.objects.filter(pk__in=[t.pk for t in tasks]).update(
        status=TaskStatus.RESOLVED,
        decision=decision,
        comment=comment,
        resolved_at=timezone.now(),
        resolved_by=user,
    )
    return [
        _event(
            EventType.TASK_RESOLVED,
            user,
            run,
            f"Task {task.pk} resolved: run {decision}",
            payload={"task": task.pk, "decision": decision},
        )
        for task in tasks
    ]


def _event(
    event_type: str,
    user: Any,
    run: FlowRun | None,
    summary: str,
    payload: dict[str, Any] | None = None,
) -> Event:
    return Event(
        event_type,
        Actor.user(user) if user is not None else Actor.system("flow engine"),
        summary=summary[:500],
        payload=payload or {},
        flow_id=run.flow_id if run else None,
        run_id=run.pk if run else None,
    )


__all__ += ["definition_of", "validate_definition"]
