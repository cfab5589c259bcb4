"""What starts runs: webhooks, polls, schedules, and the beat entries behind them.

Each trigger turns events into ``FlowRun`` rows (``engine.starts.create_run``)
in the same transaction as its own bookkeeping, and a run per (flow, event
id) at most: a webhook delivered five times, or a poll repeated after a
crash, starts one run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from audit.services import Event, EventType, record_many
from connectors.base import InboundRequest, TriggerEvent
from connectors.errors import AuthError, ConnectorError, TransientError
from connectors.models import Connection
from connectors.webhook.delivery import TRIGGER as WEBHOOK_TRIGGER
from connectors.webhook.delivery import record_rejection
from integrations import blobs, notifications
from integrations.engine.connections import connector_for
from integrations.engine.runner import ENGINE
from integrations.engine.starts import create_run, definition_of
from integrations.models import (
    Flow,
    FlowRun,
    FlowStatus,
    ReviewTask,
    RunStatus,
    TaskKind,
    TriggerState,
)
from xconnector.roles import REVIEWER

logger = logging.getLogger(__name__)

NOT_HERE = "There is no webhook at this address."
POLL_LEASE = timedelta(minutes=10)
MAX_KEPT_BODY = 1024 * 1024


@dataclass(frozen=True)
class HookAnswer:
    """The HTTP answer to a webhook sender."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


# --- Webhooks ----------------------------------------------------------------


def receive_flow_hook(token: str, request: InboundRequest) -> HookAnswer:
    """A delivery to a flow's own address: authenticate, parse, start a run."""
    flow = (
        Flow.objects.select_related("published_version")
        .filter(hook_token=token)
        .first()
    )
    trigger = _trigger(flow)
    if flow is None or trigger is None or trigger.type != "webhook":
        return HookAnswer(404, {"error": NOT_HERE})
    if flow.status != FlowStatus.ACTIVE:
        return HookAnswer(
            503,
            {"error": f"The flow “{flow.name}” is paused. Send the event again later."},
            {"Retry-After": "300"},
        )
    try:
        connection, connector = connector_for(trigger.connection)
    except ConnectorError as error:
        return HookAnswer(503, {"error": error.message}, {"Retry-After": "300"})
    try:
        events = connector.receive(
            trigger.trigger or WEBHOOK_TRIGGER, trigger.params, request
        )
    except AuthError as error:
        record_rejection(connection, error.message)
        return HookAnswer(401, {"error": error.message})
    except TransientError as error:
        return HookAnswer(503, {"error": error.message}, {"Retry-After": "60"})
    except ConnectorError as error:
        # Authentication comes first, so the sender is who it claims to be:
        # keep what it sent, in a run a reviewer can correct and replay.
        run = keep_malformed(flow, request, error.message)
        return HookAnswer(
            400,
            {"error": error.message, "run_id": run.pk, "status": run.status},
        )
    if not events:
        return HookAnswer(202, {"status": "ignored"})
    answers = [start_from_event(flow, event, "webhook") for event in events]
    run, created = answers[0]
    return HookAnswer(
        202 if created else 200,
        {
            "status": "accepted" if created else "duplicate",
            "run_id": run.pk,
            "event_id": run.event_id,
        },
    )


def start_from_event(
    flow: Flow, event: TriggerEvent, kind: str
) -> tuple[FlowRun, bool]:
    """One run for one event (documents kept first, outside the transaction)."""
    documents = [blobs.keep(document) for document in event.documents]
    with transaction.atomic():
        return create_run(
            flow,
            payload=event.payload,
            trigger_kind=kind,
            event_id=event.event_id,
            documents=documents or None,
        )


def keep_malformed(flow: Flow, request: InboundRequest, reason: str) -> FlowRun:
    """A run in ``needs_review`` that keeps a delivery nobody could read."""
    body = request.body[:MAX_KEPT_BODY]
    digest = hashlib.sha256(request.body).hexdigest()
    message = f"The delivery could not be read: {reason}"
    with transaction.atomic():
        run, created = create_run(
            flow,
            payload={
                "raw_body": body.decode("utf-8", errors="replace"),
                "content_type": request.headers.get("content-type", ""),
            },
            trigger_kind="webhook",
            event_id=f"unreadable-{digest}",
            status=RunStatus.NEEDS_REVIEW,
            error=message,
        )
        if created:
            task = ReviewTask.objects.create(
                kind=TaskKind.FAILED_TRANSFER,
                run=run,
                queue=REVIEWER,
                title=f"{flow.name}: a webhook delivery could not be read"[:300],
                reason=f"{message} Correct the data and replay the run.",
            )
            notifications.task_opened(task)
            record_many(
                [
                    Event(
                        EventType.TRANSFER_FAILED,
                        ENGINE,
                        summary=f"Run {run.pk}: {message}"[:500],
                        payload={"sha256_of_body": digest},
                        flow_id=flow.pk,
                        run_id=run.pk,
                    ),
                    Event(
                        EventType.TASK_OPENED,
                        ENGINE,
                        summary=f"Task {task.pk} opened: {task.title}"[:500],
                        payload={"task": task.pk, "kind": task.kind},
                        flow_id=flow.pk,
                        run_id=run.pk,
                    ),
                ]
            )
    return run


def on_connection_delivery(
    sender: Any, connection: Connection, event: TriggerEvent, **kwargs: Any
) -> None:
    """A delivery accepted at a connection's address starts its flows.

    Runs inside the transaction that stores the delivery (signal
    ``event_accepted``): the delivery and its runs commit together.
    """
    flows = Flow.objects.filter(
        status=FlowStatus.ACTIVE,
        published_version__definition__trigger__type="webhook",
        published_version__definition__trigger__connection=connection.pk,
    ).select_related("published_version")
    documents = [blobs.keep(document) for document in event.documents]
    for flow in flows:
        create_run(
            flow,
            payload=event.payload,
            trigger_kind="webhook",
            event_id=event.event_id,
            documents=documents or None,
        )


# --- Polling -----------------------------------------------------------------


def poll(flow_id: int) -> int:
    """Poll a flow's trigger once; return the number of runs it started.

    The cursor moves in the transaction that creates the runs. A lease on
    the trigger state keeps polls of one flow from overlapping.
    """
    now = timezone.now()
    TriggerState.objects.get_or_create(flow_id=flow_id)
    leased = TriggerState.objects.filter(
        Q(polling_until__isnull=True) | Q(polling_until__lt=now), flow_id=flow_id
    ).update(polling_until=now + POLL_LEASE)
    if not leased:
        return 0
    state = TriggerState.objects.select_related("flow__published_version").get(
        flow_id=flow_id
    )
    flow = state.flow
    trigger = _trigger(flow)
    if flow.status != FlowStatus.ACTIVE or trigger is None or trigger.type != "poll":
        TriggerState.objects.filter(pk=state.pk).update(polling_until=None)
        return 0
    try:
        _, connector = connector_for(trigger.connection)
        result = connector.poll(trigger.trigger, trigger.params, state.cursor or None)
        kept = [
            [blobs.keep(document) for document in event.documents]
            for event in result.events
        ]
    except ConnectorError as error:
        TriggerState.objects.filter(pk=state.pk).update(
            last_polled_at=now,
            last_error=error.message,
            failures_in_a_row=F("failures_in_a_row") + 1,
            polling_until=None,
        )
        logger.warning("poll of flow %s failed: %s", flow_id, error.message)
        return 0
    started = 0
    with transaction.atomic():
        for event, documents in zip(result.events, kept, strict=True):
            _, created = create_run(
                flow,
                payload=event.payload,
                trigger_kind="poll",
                event_id=event.event_id,
                documents=documents or None,
            )
            started += created
        changes: dict[str, Any] = {
            "last_polled_at": now,
            "last_error": "",
            "failures_in_a_row": 0,
            "polling_until": None,
        }
        if result.cursor is not None:
            changes["cursor"] = result.cursor
        if started:
            changes["last_event_at"] = now
        TriggerState.objects.filter(pk=state.pk).update(**changes)
    return started


# --- Schedules ---------------------------------------------------------------


def fire_schedule(flow_id: int) -> FlowRun | None:
    """One run per schedule slot, however often beat fires for it."""
    flow = Flow.objects.select_related("published_version").filter(pk=flow_id).first()
    trigger = _trigger(flow)
    if flow is None or flow.status != FlowStatus.ACTIVE or trigger is None:
        return None
    if trigger.type != "schedule":
        return None
    now = timezone.now()
    every = trigger.every_seconds or 60
    slot = int(now.timestamp()) // every * every
    with transaction.atomic():
        run, created = create_run(
            flow,
            payload={"scheduled_at": now.isoformat()},
            trigger_kind="schedule",
            event_id=f"schedule-{slot}",
        )
    return run if created else None


def sync_schedule(flow: Flow) -> PeriodicTask | None:
    """Create, change or switch off the beat entry of a poll or schedule trigger."""
    state, _ = TriggerState.objects.get_or_create(flow=flow)
    trigger = _trigger(flow)
    wanted = (
        flow.status == FlowStatus.ACTIVE
        and trigger is not None
        and trigger.type in ("poll", "schedule")
    )
    task = state.periodic_task
    if not wanted:
        if task is not None and task.enabled:
            task.enabled = False
            task.save(update_fields=["enabled"])
        return task
    timing: dict[str, Any] = {"interval": None, "crontab": None}
    if trigger.cron:
        minute, hour, day, month, weekday = trigger.cron.split()
        timing["crontab"], _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day,
            month_of_year=month,
            day_of_week=weekday,
            timezone="UTC",
        )
    else:
        timing["interval"], _ = IntervalSchedule.objects.get_or_create(
            every=trigger.every_seconds, period=IntervalSchedule.SECONDS
        )
    task, _ = PeriodicTask.objects.update_or_create(
        name=f"flow-{flow.pk}-trigger",
        defaults={
            "task": (
                "integrations.tasks.poll_trigger"
                if trigger.type == "poll"
                else "integrations.tasks.fire_schedule"
            ),
            "args": json.dumps([flow.pk]),
            "queue": "runs",
            "enabled": True,
            "description": f"Trigger of the flow “{flow.name}”",
            **timing,
        },
    )
    if state.periodic_task_id != task.pk:
        state.periodic_task = task
        state.save(update_fields=["periodic_task"])
    return task


def _trigger(flow: Flow | None) -> Any:
    if flow is None or flow.published_version is None:
        return None
    return definition_of(flow.published_version).trigger
