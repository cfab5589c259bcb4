"""Creating runs: one row per trigger event, enqueued when it commits."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.definition import Definition
from integrations.engine.claims import enqueue
from integrations.mapping import evaluate
from integrations.models import Flow, FlowRun, FlowVersion, RunStatus

_definitions: dict[tuple[int, str], Definition] = {}


def definition_of(version: FlowVersion) -> Definition:
    """The version's validated definition, parsed once per process.

    Versions never change, so the id identifies the content; the creation
    time guards against a test database that hands out an id again.
    """
    key = (version.pk, version.created_at.isoformat())
    parsed = _definitions.get(key)
    if parsed is None:
        if len(_definitions) > 512:
            _definitions.clear()
        parsed = _definitions[key] = Definition.model_validate(version.definition)
    return parsed


def business_key_of(version: FlowVersion, payload: dict[str, Any]) -> str:
    """The flow's business key on the trigger's data ("" when it has none
    or the data lacks what it names: the key only labels the run)."""
    expression = (version.definition or {}).get("business_key") or ""
    if not expression:
        return ""
    try:
        value = evaluate(expression, {"trigger": payload})
    except ValueError:
        return ""
    return "" if value in (None, "") else str(value)[:300]


def create_run(
    flow: Flow,
    *,
    payload: dict[str, Any],
    trigger_kind: str,
    version: FlowVersion | None = None,
    event_id: str = "",
    source_ref: str = "",
    documents: list[dict[str, Any]] | None = None,
    started_by: Any = None,
    parent_run: FlowRun | None = None,
    replay_of: FlowRun | None = None,
    context: dict[str, Any] | None = None,
    checkpoint: int = 0,
    status: str = RunStatus.QUEUED,
    error: str = "",
) -> tuple[FlowRun, bool]:
    """Create a queued run; (the existing run, False) if the event was seen.

    Runs inside the caller's transaction when there is one, so a trigger's
    bookkeeping (a poll cursor, a delivery) commits with the runs it made.
    """
    version = version or flow.published_version
    if version is None:
        raise ValueError(f"The flow “{flow}” has no published version to run.")
    run_context = context or {"steps": {}, "vars": {}, "documents": {}}
    if documents:
        run_context.setdefault("documents", {})["trigger"] = documents
    now = timezone.now()
    run = FlowRun(
        flow=flow,
        version=version,
        business_key=business_key_of(version, payload),
        status=status,
        trigger_kind=trigger_kind,
        event_id=event_id[:300],
        source_ref=(source_ref or event_id)[:300],
        payload=payload,
        context=run_context,
        checkpoint=checkpoint,
        started_by=started_by if getattr(started_by, "pk", None) else None,
        parent_run=parent_run,
        replay_of=replay_of,
        enqueued_at=now,
        error=error,
    )
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        if not event_id:
            raise
        existing = FlowRun.objects.filter(flow=flow, event_id=event_id[:300]).first()
        if existing is None:
            raise
        return existing, False
    if not run.source_ref:
        # Manual runs have no event id: the run itself is the source.
        run.source_ref = f"run-{run.pk}"
        FlowRun.objects.filter(pk=run.pk).update(source_ref=run.source_ref)
    if status == RunStatus.QUEUED:
        enqueue(run.pk)
    return run, True
