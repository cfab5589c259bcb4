"""Changing review tasks: claim, hand over, fix, decide, dismiss.

Each change locks the task (``select_for_update``), checks that it is still
pending and that the user may change tasks, and records its audit event in
the same transaction. A fix (values, a document, a retry) resolves the task
and replays its run from the step that stopped, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from audit.services import EventType, record_many
from connectors.base import Document
from connectors.errors import ConnectorError, PermanentError
from integrations import blobs, services
from integrations.models import (
    DECISION_KINDS,
    FlowRun,
    ReviewTask,
    TaskKind,
    TaskStatus,
)
from integrations.reviews.access import can_see, is_admin, visible_tasks
from integrations.reviews.errors import TaskError
from integrations.reviews.values import needed_fields, validate_values

CHANGE = "integrations.change_reviewtask"
BULK_ACTIONS = ("claim", "unclaim", "dismiss", "approve", "retry")


@dataclass
class BulkResult:
    """What ``bulk`` did: the tasks done, and why each other one was not."""

    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


# --- Claiming --------------------------------------------------------------------


def claim(task: ReviewTask, user: Any) -> ReviewTask:
    """Take an open task: it becomes "claimed" by ``user``."""
    with _changing(task, user) as locked:
        if locked.status == TaskStatus.CLAIMED:
            if locked.assignee_id == user.pk:
                return _reloaded(locked)
            raise TaskError(
                f"{_name(locked.assignee)} claimed this task already; ask them "
                "or an integration admin to hand it over."
            )
        now = timezone.now()
        _update(locked, status=TaskStatus.CLAIMED, assignee=user, claimed_at=now)
        _record(
            EventType.TASK_CLAIMED,
            user,
            locked,
            f"Task {locked.pk} claimed by {user.get_username()}",
            action="claim",
        )
    return _reloaded(locked)


def unclaim(task: ReviewTask, user: Any) -> ReviewTask:
    """Give a claimed task back to its queue (its assignee or an admin)."""
    with _changing(task, user) as locked:
        if locked.status != TaskStatus.CLAIMED:
            raise TaskError("This task is not claimed by anyone.")
        if locked.assignee_id != user.pk and not is_admin(user):
            raise TaskError(
                f"{_name(locked.assignee)} claimed this task; only they or an "
                "integration admin can give it back."
            )
        _update(locked, status=TaskStatus.OPEN, assignee=None, claimed_at=None)
        _record(
            EventType.TASK_CLAIMED,
            user,
            locked,
            f"Task {locked.pk} given back to the queue “{locked.queue}” "
            f"by {user.get_username()}",
            action="unclaim",
        )
    return _reloaded(locked)


def reassign(task: ReviewTask, user: Any, assignee: Any) -> ReviewTask:
    """Hand a task to ``assignee``, who must be able to see it."""
    with _changing(task, user) as locked:
        if assignee is None or not can_see(assignee, locked):
            raise TaskError(
                f"{_name(assignee)} is not in the queue “{locked.queue}”, so they "
                "cannot see this task."
            )
        _update(
            locked,
            status=TaskStatus.CLAIMED,
            assignee=assignee,
            claimed_at=timezone.now(),
        )
        _record(
            EventType.TASK_CLAIMED,
            user,
            locked,
            f"Task {locked.pk} assigned to {assignee.get_username()} "
            f"by {user.get_username()}",
            action="reassign",
            assignee=assignee.get_username(),
        )
    return _reloaded(locked)


# --- Fixing ----------------------------------------------------------------------


def resolve_with_values(
    task: ReviewTask, user: Any, values: dict[str, Any], comment: str = ""
) -> FlowRun:
    """Incomplete metadata: check ``values`` against the fields the step needs,
    resolve the task and replay the run with them; the new run."""
    with _changing(task, user, kind=TaskKind.INCOMPLETE_METADATA) as locked:
        fields = needed_fields(locked.needed)
        clean = validate_values(fields, values if isinstance(values, dict) else {})
        _resolve(locked, user, "fixed", {"values": clean, "comment": comment}, comment)
        return _replay(
            locked, user, comment=comment, overrides={locked.step_key: clean}
        )


def resolve_with_document(
    task: ReviewTask, user: Any, upload: Any, comment: str = ""
) -> FlowRun | None:
    """Missing document: keep the uploaded file, resolve the task and replay
    the run with it as the document the step was missing (the new run); or,
    for a workspace's checklist item, file it into the workspace (None)."""
    limit = settings.XCONNECTOR_MAX_DOCUMENT_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise TaskError(
            f"“{upload.name}” is {size:,} bytes; one document may have at most "
            f"{limit:,} bytes."
        )
    if task.workspace_id:
        return _file_into_workspace(task, user, upload, comment, limit)
    with _changing(task, user, kind=TaskKind.MISSING_DOCUMENT) as locked:
        source = locked.needed.get("document")
        if not source:
            raise TaskError("This task does not say which document is missing.")
        document = Document(
            upload.name or "document",
            upload.chunks(),
            media_type=getattr(upload, "content_type", None)
            or "application/octet-stream",
            size=size,
            source_ref=f"task:{locked.pk}",
            max_bytes=limit,
        )
        try:
            ref = blobs.keep(document)
        except PermanentError as error:
            raise TaskError(error.message) from None
        _resolve(
            locked,
            user,
            "fixed",
            {"document": ref, "comment": comment},
            comment,
            document=ref,
        )
        return _replay(locked, user, comment=comment, documents={source: [ref]})


def _file_into_workspace(
    task: ReviewTask, user: Any, upload: Any, comment: str, limit: int
) -> None:
    """Check, upload outside any transaction (it may take minutes; it is
    idempotent by the task), then record and resolve under the task's lock."""
    from workspaces.follow_up import follow_up, keep_upload
    from workspaces.follow_up import upload as upload_to_ecm

    with _changing(task, user, kind=TaskKind.MISSING_DOCUMENT):
        pass  # the checks alone: refuse before anything is uploaded
    try:
        filing = upload_to_ecm(task, upload, limit)
    except ConnectorError as error:
        raise TaskError(error.message) from None
    ref = {"name": filing.name, "sha256": filing.sha256, "size": filing.size}
    with _changing(task, user, kind=TaskKind.MISSING_DOCUMENT) as locked:
        keep_upload(locked, user, filing)
        _resolve(
            locked,
            user,
            "filed",
            {"document": {**ref, "node_id": filing.node_id}, "comment": comment},
            comment,
            document=ref,
        )
        follow_up(locked.workspace, requested_by=user)


def resolve_conflicts(
    task: ReviewTask, user: Any, choices: dict[int, Any], comment: str = ""
) -> None:
    """Metadata conflict: write the value the reviewer chose for each open
    conflict to both systems (outside any transaction; ``sync.Stale`` if a
    value moved since), then record it and resolve the task once none of
    the workspace's conflicts is open any more."""
    from workspaces import sync
    from workspaces.models import ConflictStatus, SyncConflict

    with _changing(task, user, kind=TaskKind.METADATA_CONFLICT):
        pass  # the checks alone: refuse before anything is written
    if not choices:
        raise TaskError("Choose a value for at least one field.")
    try:
        settled = sync.settle(task.workspace, choices)
    except ConnectorError as error:
        raise TaskError(error.message) from None
    with _changing(task, user, kind=TaskKind.METADATA_CONFLICT) as locked:
        sync.keep_settled(locked.workspace, settled, user, comment)
        still_open = SyncConflict.objects.filter(
            workspace=locked.workspace_id, status=ConflictStatus.OPEN
        ).exists()
        if not still_open:
            _resolve(
                locked,
                user,
                "settled",
                {
                    "kept": {
                        conflict.rule.label: kept for conflict, kept, _, _ in settled
                    },
                    "comment": comment,
                },
                comment,
            )


def retry(
    task: ReviewTask, user: Any, *, version: str = "latest", comment: str = ""
) -> FlowRun:
    """Try the run again from the step that failed (on the flow's latest
    version by default); the transfer ledger keeps documents sent once."""
    with _changing(task, user) as locked:
        if locked.workspace_id:
            raise TaskError(
                "This task is about a workspace's document: upload it, or "
                "approve or reject it, instead of trying again."
            )
        if locked.kind in DECISION_KINDS:
            raise TaskError(
                f"A “{locked.get_kind_display()}” task is approved or rejected, "
                "not retried."
            )
        _resolve(
            locked, user, "retried", {"version": version, "comment": comment}, comment
        )
        return _replay(locked, user, comment=comment, version=version)


def approve(task: ReviewTask, user: Any, comment: str = "") -> FlowRun | None:
    """Approve: the run goes on."""
    return _decide(task, user, approved=True, comment=comment)


def reject(task: ReviewTask, user: Any, comment: str) -> FlowRun | None:
    """Reject with a comment (required): the run goes on at the step's
    ``on_reject`` step, or ends as failed."""
    if not (comment or "").strip():
        raise TaskError("Say why you reject it: the comment is required.")
    return _decide(task, user, approved=False, comment=comment)


def dismiss(task: ReviewTask, user: Any, reason: str) -> ReviewTask:
    """Nothing needs to be done (with a reason); the run stays as it is."""
    reason = (reason or "").strip()
    if not reason:
        raise TaskError("Say why nothing needs to be done: the reason is required.")
    with _changing(task, user) as locked:
        now = timezone.now()
        _update(
            locked,
            status=TaskStatus.DISMISSED,
            decision="dismissed",
            comment=reason,
            resolution={"decision": "dismissed", "reason": reason},
            resolved_at=now,
            resolved_by=user,
        )
        _record(
            EventType.TASK_DISMISSED,
            user,
            locked,
            f"Task {locked.pk} dismissed by {user.get_username()}: {reason}",
            reason=reason,
        )
    return _reloaded(locked)


def bulk(task_ids: list[int], user: Any, action: str, **kwargs: Any) -> BulkResult:
    """One action on several tasks, each in its own transaction."""
    actions: dict[str, Callable[..., Any]] = {
        "claim": claim,
        "unclaim": unclaim,
        "dismiss": dismiss,
        "approve": approve,
        "retry": retry,
    }
    if action not in actions:
        raise TaskError(f"“{action}” is not something done to several tasks at once.")
    if action == "dismiss" and not (kwargs.get("reason") or "").strip():
        raise TaskError("Say why nothing needs to be done: the reason is required.")
    result = BulkResult()
    visible = visible_tasks(user).select_related(None).in_bulk(list(task_ids))
    for task_id in dict.fromkeys(task_ids):
        task = visible.get(task_id)
        if task is None:
            result.failed[task_id] = "not found"
            continue
        try:
            actions[action](task, user, **kwargs)
        except (TaskError, PermanentError) as error:
            result.failed[task_id] = error.message
        except PermissionDenied as error:
            result.failed[task_id] = str(error) or "not allowed"
        else:
            result.done.append(task_id)
    return result


# --- Helpers ---------------------------------------------------------------------


class _changing:
    """``with _changing(task, user) as locked:``: a transaction holding the
    task's row lock, after the permission and "still pending" checks."""

    def __init__(self, task: ReviewTask, user: Any, *, kind: str = "") -> None:
        self.task = task
        self.user = user
        self.kind = kind
        self.atomic = transaction.atomic()

    def __enter__(self) -> ReviewTask:
        if self.user is None or not self.user.has_perm(CHANGE):
            raise PermissionDenied(f"You need the permission “{CHANGE}”.")
        self.atomic.__enter__()
        try:
            return self._check()
        except BaseException as error:
            self.atomic.__exit__(type(error), error, error.__traceback__)
            raise

    def _check(self) -> ReviewTask:
        try:
            locked = ReviewTask.objects.select_for_update().get(pk=self.task.pk)
        except ReviewTask.DoesNotExist:
            raise TaskError("This task no longer exists.") from None
        if not can_see(self.user, locked):
            raise PermissionDenied(
                f"This task is in the queue “{locked.queue}”; you are not in it."
            )
        if not locked.is_pending:
            raise TaskError(_already(locked))
        if self.kind and locked.kind != self.kind:
            raise TaskError(
                f"This is a “{locked.get_kind_display()}” task; it is not fixed "
                "that way."
            )
        return locked

    def __exit__(self, *exc: Any) -> bool | None:
        return self.atomic.__exit__(*exc)


def _already(task: ReviewTask) -> str:
    status = task.get_status_display().lower()
    who = f" by {_name(task.resolved_by)}" if task.resolved_by_id else ""
    when = (
        f" on {timezone.localtime(task.resolved_at):%d %b %Y at %H:%M}"
        if task.resolved_at
        else ""
    )
    return f"This task was already {status}{who}{when}."


def _name(user: Any) -> str:
    if user is None:
        return "Nobody"
    return user.get_full_name() or user.get_username()


def _update(task: ReviewTask, **changes: Any) -> None:
    ReviewTask.objects.filter(pk=task.pk).update(**changes)


def _reloaded(task: ReviewTask) -> ReviewTask:
    return ReviewTask.objects.select_related("run", "flow", "assignee").get(pk=task.pk)


def _record(
    event_type: str, user: Any, task: ReviewTask, summary: str, **payload: Any
) -> None:
    event = services._event(
        event_type,
        user,
        task.run,
        summary,
        payload={"task": task.pk, "kind": task.kind, **payload},
    )
    record_many([_about(event, task)])


def _about(event: Any, task: ReviewTask, **more: Any) -> Any:
    return replace(
        event, system=task.system, business_object=task.business_object, **more
    )


def _resolve(
    task: ReviewTask,
    user: Any,
    decision: str,
    resolution: dict[str, Any],
    comment: str,
    *,
    document: dict[str, Any] | None = None,
) -> None:
    _update(
        task,
        status=TaskStatus.RESOLVED,
        decision=decision,
        comment=comment,
        resolution=resolution,
        resolved_at=timezone.now(),
        resolved_by=user,
    )
    event = services._event(
        EventType.TASK_RESOLVED,
        user,
        task.run,
        f"Task {task.pk} resolved by {user.get_username()}: {decision}",
        payload={
            "task": task.pk,
            "kind": task.kind,
            "decision": decision,
            "fields": sorted(resolution.get("values") or {}),
            "comment": comment,
        },
    )
    more: dict[str, Any] = {}
    if document:
        more = {
            "document_ref": document.get("name", "")[:500],
            "document_sha256": document.get("sha256", ""),
            "document_size": document.get("size"),
        }
    record_many([_about(event, task, **more)])


def _replay(task: ReviewTask, user: Any, **options: Any) -> FlowRun:
    """Replay the task's run from the step that stopped; the new run."""
    try:
        return services.replay_run(task.run, user, check_permission=False, **options)
    except PermanentError as error:
        raise TaskError(error.message) from None


def _decide(
    task: ReviewTask, user: Any, *, approved: bool, comment: str
) -> FlowRun | None:
    if user is None or not user.has_perm(CHANGE):
        raise PermissionDenied(f"You need the permission “{CHANGE}”.")
    current = ReviewTask.objects.filter(pk=task.pk).first()
    if current is None:
        raise TaskError("This task no longer exists.")
    if not can_see(user, current):
        raise PermissionDenied(
            f"This task is in the queue “{current.queue}”; you are not in it."
        )
    if not current.is_pending:
        raise TaskError(_already(current))
    if current.kind not in DECISION_KINDS:
        raise TaskError(
            "Only an approval or a reconciliation mismatch is approved or rejected."
        )
    if current.workspace_id:
        from workspaces.follow_up import decide_document

        with _changing(current, user) as locked:
            decide_document(locked, user, approved=approved, comment=comment)
        return None
    try:
        return services.decide_approval(
            current, user, approved=approved, comment=comment
        )
    except PermanentError as error:
        raise TaskError(error.message) from None
