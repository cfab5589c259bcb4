"""The run loop: claim, execute steps from the checkpoint, commit each one.

Every step ends in one transaction that is fenced by the run's token: the
new checkpoint and context, the ``StepRun``, the ledger row of a document
it sent and the audit events all commit together or not at all. A worker
killed between a system's answer and that commit leaves the checkpoint
where it was; the next worker repeats the step with the same idempotency
key, and the connector (or the ledger) recognises what was already done.
"""

from __future__ import annotations

import logging
import random
import socket
import time
import traceback
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from audit.services import Actor, Event, EventType, record_many
from connectors.base import TriggerEvent
from connectors.errors import ConnectorError, PartnerError, TransientError
from integrations import notifications
from integrations.definition import END, ActionStep, Definition
from integrations.engine import claims
from integrations.engine.claims import LeaseKeeper, LostLease, fenced
from integrations.engine.connections import connector_for
from integrations.engine.handlers import HANDLERS
from integrations.engine.starts import create_run, definition_of
from integrations.engine.steps import (
    Done,
    MissingDocument,
    Pause,
    RateLimited,
    TransferWork,
    fields_to_complete,
    system_of,
)
from integrations.mapping import MappingFailed, evaluate
from integrations.models import (
    AttemptOutcome,
    Flow,
    FlowRun,
    FlowStatus,
    ReviewTask,
    RunStatus,
    StepRun,
    StepStatus,
    TaskKind,
    Transfer,
    TransferAttempt,
    TransferStatus,
    sla_due,
)
from xconnector.roles import REVIEWER

logger = logging.getLogger(__name__)
ENGINE = Actor.system("flow engine")
WORKER = f"{socket.gethostname()}"


def execute_run(run_id: int, worker: str = WORKER) -> str:
    """Execute the run as far as it can go now; return what happened."""
    try:
        token = claims.claim(run_id, worker)
    except claims.Busy:
        claims.wake(run_id, delay=claims.busy_delay())
        return "busy"
    if token is None:
        return "not claimable"
    run = FlowRun.objects.select_related("flow", "version").get(pk=run_id)
    return Execution(run, token).go()


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter (AWS architecture blog, 2015)."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # noqa: S311


class Execution:
    """One claim of one run: executes steps until it ends or has to wait."""

    def __init__(self, run: FlowRun, token: int) -> None:
        self.run = run
        self.token = token
        self.definition: Definition = definition_of(run.version)
        self.transfer: TransferWork | None = None

    # -- What steps see --

    def scope(self) -> dict[str, Any]:
        context = self.run.context
        return {
            "trigger": self.run.payload,
            "steps": context.get("steps", {}),
            "vars": dict(context.get("vars", {})),
            "documents": context.get("documents", {}),
            "run": {
                "id": self.run.pk,
                "flow": self.run.flow.name,
                "event_id": self.run.event_id,
                "source_ref": self.run.source_ref,
            },
        }

    def source_system(self) -> str:
        trigger = self.definition.trigger
        if trigger.connection is not None:
            return f"connection-{trigger.connection}"
        return trigger.type

    # -- The loop --

    def go(self) -> str:
        with LeaseKeeper(self.run.pk, self.token) as keeper:
            while True:
                if keeper.lost.is_set():
                    return "lost lease"
                try:
                    outcome = self._step()
                except LostLease:
                    return "lost lease"
                if outcome != "next":
                    return outcome

    def _step(self) -> str:
        steps = self.definition.steps
        index = self.run.checkpoint
        if index >= len(steps):
            self._commit(None, Done(), index, time.perf_counter(), timezone.now())
            return RunStatus.SUCCEEDED
        step = steps[index]
        started, clock = timezone.now(), time.perf_counter()
        self.transfer = None
        try:
            outcome = HANDLERS[step.type](self, step)
        except RateLimited as limited:
            return self._defer(limited)
        except TransientError as error:
            return self._retry(step, error, started, clock)
        except (ConnectorError, MappingFailed) as error:
            return self._stop_for_review(
                step, _message(step, error), error, started, clock
            )
        except (LostLease, DatabaseError):
            raise
        except Exception as error:
            logger.exception("step %s of run %s crashed", step.key, self.run.pk)
            detail = "".join(traceback.format_exception_only(error)).strip()
            return self._stop_for_review(
                step,
                f"Step “{step.label}” stopped on an unexpected error in xConnector. "
                "Replay the run; if it happens again, report it with the run number.",
                detail,
                started,
                clock,
            )
        if isinstance(outcome, Pause):
            return self._pause(step, outcome, started, clock)
        return self._commit(step, outcome, index, clock, started)

    # -- Commits (each fenced by the token) --

    def _commit(
        self, step: Any, done: Done, index: int, clock: float, started: datetime
    ) -> str:
        run = self.run
        context = run.context
        next_index = self._next_index(step, done, index)
        if step is not None:
            context.setdefault("steps", {})[step.key] = done.output
            context.setdefault("vars", {}).update(done.variables)
            if done.documents:
                context.setdefault("documents", {})[step.key] = done.documents
        ending = next_index >= len(self.definition.steps) or bool(done.stop)
        now = timezone.now()
        changes: dict[str, Any] = {
            "checkpoint": next_index,
            "context": context,
            "step_attempt": 0,
            "error": "",
            "error_detail": "",
        }
        if ending:
            changes |= {
                "status": RunStatus.SUCCEEDED,
                "finished_at": now,
                "lease_expires_at": None,
                "error": done.stop,
            }
        else:
            changes["lease_expires_at"] = now + claims.lease()
        with transaction.atomic():
            if not fenced(run.pk, self.token).update(**changes):
                raise LostLease
            events = []
            if step is not None:
                self._step_run(
                    step,
                    index,
                    StepStatus.SUCCEEDED,
                    done.input,
                    started,
                    clock,
                    output=done.output,
                    error=done.note,
                )
            if done.transfer is not None and not done.transfer.reconciled:
                events.append(self._transfer_done(done.transfer, now))
            if events:
                record_many(events)
            if ending:
                self._after_end(RunStatus.SUCCEEDED)
        for name, value in changes.items():
            setattr(run, name, value)
        if ending:
            self._acknowledge()
        return RunStatus.SUCCEEDED if ending else "next"

    def _acknowledge(self) -> None:
        """Tell a poll trigger its event is done with (a dropped file moves
        to done/); after the commit, and never failing the run."""
        trigger = self.definition.trigger
        if trigger.type != "poll" or self.run.trigger_kind != "poll":
            return
        try:
            _, connector = connector_for(trigger.connection)
            event = TriggerEvent(event_id=self.run.source_ref, payload=self.run.payload)
            connector.acknowledge(trigger.trigger, trigger.params, event, ok=True)
        except Exception:
            logger.exception("could not acknowledge the event of run %s", self.run.pk)

    def _next_index(self, step: Any, done: Done, index: int) -> int:
        if step is None:
            return index
        target = done.goto or step.next
        if not target:
            return index + 1
        return (
            self.definition.index_of(target)
            if target != END
            else len(self.definition.steps)
        )

    def _retry(
        self, step: Any, error: TransientError, started: datetime, clock: float
    ) -> str:
        attempts = self.run.step_attempt + 1
        policy = step.retry if isinstance(step, ActionStep) else None
        if policy is None or attempts >= policy.max_attempts:
            tries = attempts if policy else 1
            message = (
                f"{error.message} Gave up after {tries} attempt"
                f"{'s' if tries != 1 else ''}."
            )
            return self._stop_for_review(step, message, error, started, clock)
        delay = (
            error.retry_after
            if error.retry_after is not None
            else backoff(attempts, policy.base_seconds, policy.cap_seconds)
        )
        now = timezone.now()
        with transaction.atomic():
            if not fenced(self.run.pk, self.token).update(
                status=RunStatus.RETRYING,
                step_attempt=attempts,
                next_attempt_at=now + timedelta(seconds=delay),
                lease_expires_at=None,
                error=error.message,
                error_detail=error.detail[:4000],
            ):
                raise LostLease
            self._step_run(
                step,
                self.run.checkpoint,
                StepStatus.RETRYING,
                None,
                started,
                clock,
                error=error.message,
                detail=error.detail,
                http_status=error.status,
            )
            self._close_attempt(AttemptOutcome.RETRYING, error.message, error.status)
            if delay <= settings.XCONNECTOR_MAX_COUNTDOWN:
                claims.enqueue(self.run.pk, delay=delay)
        return RunStatus.RETRYING

    def _defer(self, limited: RateLimited) -> str:
        """The connection's budget is spent: wait without counting a failure."""
        now = timezone.now()
        with transaction.atomic():
            if not fenced(self.run.pk, self.token).update(
                status=RunStatus.RETRYING,
                next_attempt_at=now + timedelta(seconds=limited.seconds),
                lease_expires_at=None,
                error=f"Waiting for the rate limit of “{limited.connection.name}”.",
            ):
                raise LostLease
            claims.enqueue(self.run.pk, delay=limited.seconds)
        return RunStatus.RETRYING

    def _stop_for_review(
        self,
        step: Any,
        message: str,
        error: Any,
        started: datetime,
        clock: float,
    ) -> str:
        detail = getattr(error, "detail", "") if not isinstance(error, str) else error
        status_code = getattr(error, "status", None)
        now = timezone.now()
        with transaction.atomic():
            if not fenced(self.run.pk, self.token).update(
                status=RunStatus.NEEDS_REVIEW,
                lease_expires_at=None,
                error=message,
                error_detail=(detail or "")[:4000],
            ):
                raise LostLease
            self._step_run(
                step,
                self.run.checkpoint,
                StepStatus.FAILED,
                None,
                started,
                clock,
                error=message,
                detail=detail,
                http_status=status_code,
            )
            self._close_attempt(AttemptOutcome.FAILED, message, status_code)
            if self.transfer is not None and not self.transfer.reconciled:
                Transfer.objects.filter(pk=self.transfer.transfer.pk).update(
                    status=TransferStatus.FAILED, error=message[:2000]
                )
            kind, needed, title = self._what_is_needed(step, error, message)
            transfer = self.transfer.transfer if self.transfer else None
            task = ReviewTask.objects.create(
                kind=kind,
                run=self.run,
                flow_id=self.run.flow_id,
                step_key=step.key,
                transfer=transfer,
                system=system_of(step),
                business_object=self._business_object(transfer),
                queue=REVIEWER,
                title=f"{self.run.flow.name}: {title}"[:300],
                reason=message,
                needed=needed,
                due_at=sla_due(kind, now),
            )
            notifications.task_opened(task)
            record_many(
                [
                    self._event(
                        EventType.TRANSFER_FAILED,
                        f"Run {self.run.pk} stopped at “{step.label}”: {message}",
                        step,
                        now,
                    ),
                    self._event(
                        EventType.TASK_OPENED,
                        f"Task {task.pk} opened: {task.title}",
                        step,
                        now,
                        payload={"task": task.pk, "kind": task.kind},
                    ),
                ]
            )
            self._after_end(RunStatus.NEEDS_REVIEW)
        return RunStatus.NEEDS_REVIEW

    def _business_object(self, transfer: Transfer | None) -> str:
        """What a task is about, for the inbox: the flow's ``business_key``
        expression, else the document's source identity, else the run's."""
        if self.definition.business_key:
            try:
                value = evaluate(self.definition.business_key, self.scope())
            except ValueError:
                value = None  # a task is still opened; the key is only a label
            if value not in (None, ""):
                return str(value)[:300]
        if transfer is not None:
            return f"{transfer.source_system}:{transfer.source_id}"[:300]
        return self.run.source_ref[:300]

    def _what_is_needed(
        self, step: Any, error: Any, message: str
    ) -> tuple[str, dict[str, Any], str]:
        """The task's kind, what would fix it, and its title."""
        if isinstance(error, MappingFailed) and isinstance(step, ActionStep):
            fields = fields_to_complete(self, step, error)
            return (
                TaskKind.INCOMPLETE_METADATA,
                {
                    "action": step.action,
                    "connection": step.connection,
                    "fields": fields,
                    "order": list(fields),  # jsonb keeps no key order
                    "errors": [str(problem) for problem in error.errors],
                },
                f"“{step.label}” needs information",
            )
        if isinstance(error, MissingDocument):
            return (
                TaskKind.MISSING_DOCUMENT,
                {"document": step.document, "errors": [message]},
                f"“{step.label}” needs a document",
            )
        if isinstance(error, PartnerError):
            return (
                TaskKind.PARTNER_EXCEPTION,
                {
                    "partner": error.partner,
                    "errors": [message],
                    "http_status": error.status,
                },
                f"“{step.label}”: the trading partner refused it",
            )
        return (
            TaskKind.FAILED_TRANSFER,
            {"errors": [message], "http_status": getattr(error, "status", None)},
            f"“{step.label}” failed",
        )

    def _pause(self, step: Any, pause: Pause, started: datetime, clock: float) -> str:
        context = self.run.context
        if pause.until is not None:
            context.setdefault("waits", {})[step.key] = pause.until.isoformat()
        now = timezone.now()
        with transaction.atomic():
            if not fenced(self.run.pk, self.token).update(
                status=RunStatus.WAITING,
                lease_expires_at=None,
                next_attempt_at=pause.until,
                context=context,
            ):
                raise LostLease
            self._step_run(
                step,
                self.run.checkpoint,
                StepStatus.WAITING,
                pause.input,
                started,
                clock,
            )
            if pause.task is not None:
                task = ReviewTask.objects.create(
                    run=self.run,
                    flow_id=self.run.flow_id,
                    step_key=step.key,
                    business_object=self._business_object(None),
                    requested_by_id=self.run.started_by_id,
                    due_at=sla_due(pause.task["kind"], now),
                    **pause.task,
                )
                notifications.task_opened(task)
                record_many(
                    [
                        self._event(
                            EventType.TASK_OPENED,
                            f"Task {task.pk} opened: {task.title}",
                            step,
                            now,
                            payload={"task": task.pk, "kind": task.kind},
                        )
                    ]
                )
            if pause.until is not None:
                delay = (pause.until - now).total_seconds()
                if delay <= settings.XCONNECTOR_MAX_COUNTDOWN:
                    claims.enqueue(self.run.pk, delay=max(delay, 0))
        return RunStatus.WAITING

    # -- Pieces of a commit --

    def _step_run(
        self,
        step: Any,
        index: int,
        status: str,
        input_: Any,
        started: datetime,
        clock: float,
        *,
        output: Any = None,
        error: str = "",
        detail: str = "",
        http_status: int | None = None,
    ) -> None:
        StepRun.objects.create(
            run=self.run,
            step_key=step.key,
            step_index=index,
            step_type=step.type,
            system=system_of(step),
            attempt=self.run.step_attempt + 1,
            run_attempt=self.token,
            status=status,
            input=input_,
            output=output,
            error=error,
            error_detail=(detail or "")[:4000],
            http_status=http_status,
            duration_ms=int((time.perf_counter() - clock) * 1000),
            started_at=started,
            finished_at=timezone.now(),
        )

    def _transfer_done(self, work: TransferWork, now: datetime) -> Event:
        ref = work.document
        transfer = work.transfer
        Transfer.objects.filter(pk=transfer.pk).update(
            status=TransferStatus.DONE,
            target_ref=transfer.target_ref,
            sha256=ref.get("sha256", ""),
            size=ref.get("size"),
            output=self.run.context["steps"].get(transfer.step_key),
            run=self.run,
            completed_at=now,
            error="",
        )
        self._close_attempt(AttemptOutcome.SUCCEEDED, "", None)
        return Event(
            EventType.DOCUMENT_TRANSFERRED,
            ENGINE,
            summary=f"“{transfer.name}” sent to {work.connection.name}",
            payload={
                "transfer": transfer.pk,
                "source_version": transfer.source_version,
            },
            flow_id=self.run.flow_id,
            run_id=self.run.pk,
            connection_id=work.connection.pk,
            system=work.connection.connector_key,
            document_ref=f"{transfer.source_system}:{transfer.source_id}"[:300],
            target_ref=transfer.target_ref,
            document_sha256=ref.get("sha256", ""),
            document_size=ref.get("size"),
            occurred_at=now,
        )

    def _close_attempt(self, outcome: str, error: str, status: int | None) -> None:
        work = self.transfer
        if work is None or work.attempt is None:
            return
        TransferAttempt.objects.filter(pk=work.attempt.pk).update(
            outcome=outcome,
            error=error[:2000],
            http_status=status,
            finished_at=timezone.now(),
        )

    def _event(
        self,
        event_type: str,
        summary: str,
        step: Any,
        now: datetime,
        payload: dict[str, Any] | None = None,
    ) -> Event:
        transfer = self.transfer.transfer if self.transfer else None
        return Event(
            event_type,
            ENGINE,
            summary=summary[:500],
            payload={"step": step.key, **(payload or {})},
            flow_id=self.run.flow_id,
            run_id=self.run.pk,
            document_ref=(
                f"{transfer.source_system}:{transfer.source_id}"[:300]
                if transfer
                else ""
            ),
            occurred_at=now,
        )

    def _after_end(self, status: str) -> None:
        """Start the flows that follow this one (same transaction)."""
        start_followers(self.run, status)


def start_followers(run: FlowRun, status: str) -> None:
    """Start the flows that follow ``run``'s flow when it ends with ``status``
    (in the caller's transaction)."""
    followers = Flow.objects.filter(
        status=FlowStatus.ACTIVE,
        published_version__definition__trigger__type="flow_finished",
        published_version__definition__trigger__flow=run.flow_id,
    ).select_related("published_version")
    for follower in followers:
        trigger = definition_of(follower.published_version).trigger
        if status not in trigger.on:
            continue
        create_run(
            follower,
            payload={
                "run": {
                    "id": run.pk,
                    "flow": run.flow.name,
                    "status": status,
                    "outputs": run.context.get("steps", {}),
                    "trigger": run.payload,
                }
            },
            trigger_kind="flow_finished",
            event_id=f"run-{run.pk}",
            parent_run=run,
        )


def _message(step: Any, error: Exception) -> str:
    if isinstance(error, MappingFailed):
        return f"The mapping of “{step.label}” could not be applied: {error}"
    return str(error)
