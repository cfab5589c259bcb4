"""Working review tasks: who sees which task, claiming, fixing, approving,
dismissing. The reviewers' inbox calls these; every rule lives here.

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
from django.db.models import Count, Exists, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from audit.services import EventType, record_many
from connectors.base import Document
from connectors.errors import PermanentError
from integrations import blobs, services
from integrations.models import (
    PENDING_STATUSES,
    FlowRun,
    ReviewTask,
    TaskKind,
    TaskStatus,
)
from xconnector.roles import INTEGRATION_ADMIN

__all__ = [
    "BulkResult",
    "InvalidValues",
    "TaskError",
    "approve",
    "bulk",
    "claim",
    "counts_by_queue",
    "dismiss",
    "get_visible_task",
    "reassign",
    "reject",
    "resolve_with_document",
    "resolve_with_values",
    "retry",
    "unclaim",
    "visible_tasks",
]

CHANGE = "integrations.change_reviewtask"
REPLAY = "integrations.replay_flowrun"
BULK_ACTIONS = ("claim", "unclaim", "dismiss", "approve", "retry")


class TaskError(Exception):
    """A task cannot be changed that way; ``message`` says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidValues(TaskError):
    """Values that do not fit the fields; ``errors`` per field. Nothing saved."""

    def __init__(
        self,
        errors: dict[str, str],
        message: str = "Some values need another look.",
    ) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


# --- Who sees what ---------------------------------------------------------------


def is_admin(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=INTEGRATION_ADMIN).exists()


def visible_tasks(user: Any) -> QuerySet[ReviewTask]:
    """The tasks ``user`` may see: all for integration admins, else those of
    the queues named like the user's groups."""
    tasks = ReviewTask.objects.select_related("run", "flow", "assignee").order_by(
        "due_at", "priority", "pk"
    )
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return tasks.none()
    if user.is_superuser:
        return tasks
    # One query: the admin check and the user's groups are subqueries.
    memberships = user.groups.through.objects.filter(user_id=user.pk)
    admin = Exists(memberships.filter(group__name=INTEGRATION_ADMIN))
    return tasks.filter(admin | Q(queue__in=memberships.values("group__name")))


def get_visible_task(user: Any, pk: int) -> ReviewTask:
    """The task, or ``Http404`` when ``user`` may not see it."""
    try:
        return visible_tasks(user).get(pk=pk)
    except (ReviewTask.DoesNotExist, ValueError, TypeError):
        raise Http404("No such task.") from None


def can_see(user: Any, task: ReviewTask) -> bool:
    if is_admin(user):
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.groups.filter(name=task.queue).exists()


def counts_by_queue(user: Any) -> dict[str, dict[str, int]]:
    """{queue: {"open", "overdue", "mine"}} of the visible pending tasks."""
    now = timezone.now()
    rows = (
        visible_tasks(user)
        .filter(status__in=PENDING_STATUSES)
        .select_related(None)
        .order_by()
        .values("queue")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=Q(due_at__lt=now)),
            mine=Count("pk", filter=Q(assignee_id=getattr(user, "pk", None))),
        )
    )
    return {
        row["queue"]: {
            "open": row["open"],
            "overdue": row["overdue"],
            "mine": row["mine"],
        }
        for row in rows
    }


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
        fields = locked.needed.get("fields") or {}
        clean = validate_values(fields, values if isinstance(values, dict) else {})
        _resolve(locked, user, "fixed", {"values": clean, "comment": comment}, comment)
        return _replay(
            locked, user, comment=comment, overrides={locked.step_key: clean}
        )


def resolve_with_document(
    task: ReviewTask, user: Any, upload: Any, comment: str = ""
) -> FlowRun:
    """Missing document: keep the uploaded file, resolve the task and replay
    the run with it as the document the step was missing; the new run."""
    limit = settings.XCONNECTOR_MAX_DOCUMENT_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise TaskError(
            f"“{upload.name}” is {size:,} bytes; one document may have at most "
            f"{limit:,} bytes."
        )
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


def retry(
    task: ReviewTask, user: Any, *, version: str = "latest", comment: str = ""
) -> FlowRun:
    """Try the run again from the step that failed (on the flow's latest
    version by default); the transfer ledger keeps documents sent once."""
    with _changing(task, user) as locked:
        if locked.kind == TaskKind.APPROVAL:
            raise TaskError("An approval is approved or rejected, not retried.")
        _resolve(
            locked, user, "retried", {"version": version, "comment": comment}, comment
        )
        return _replay(locked, user, comment=comment, version=version)


def approve(task: ReviewTask, user: Any, comment: str = "") -> FlowRun:
    """Approve: the run goes on."""
    return _decide(task, user, approved=True, comment=comment)


def reject(task: ReviewTask, user: Any, comment: str) -> FlowRun:
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


# --- Values ----------------------------------------------------------------------


def validate_values(fields: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The values, typed by their fields' JSON schemas; ``InvalidValues``
    with a message per field otherwise."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, schema in fields.items():
        schema = schema if isinstance(schema, dict) else {}
        value = values.get(name)
        if isinstance(value, str) and _kind(schema) != "string":
            value = value.strip()
        if (
            value is None
            or value == ""
            or (isinstance(value, str) and not value.strip())
        ):
            if _required(schema):
                errors[name] = "Fill this in: the run cannot go on without it."
            continue
        try:
            clean[name] = _typed(schema, value)
        except ValueError as error:
            errors[name] = str(error)
    unknown = sorted(set(values) - set(fields))
    for name in unknown:
        errors[name] = "This step does not need this field."
    if errors:
        raise InvalidValues(errors)
    return clean


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if kind is None:
        for option in schema.get("anyOf") or schema.get("oneOf") or []:
            if isinstance(option, dict) and option.get("type") not in (None, "null"):
                return str(option["type"])
        return "string" if "enum" not in schema else "enum"
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), "string")
    return str(kind)


def _required(schema: dict[str, Any]) -> bool:
    """A needed field must be filled unless its schema allows null."""
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        return False
    options = schema.get("anyOf") or schema.get("oneOf") or []
    return not any(
        isinstance(option, dict) and option.get("type") == "null" for option in options
    )


def _enum(schema: dict[str, Any]) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    for option in schema.get("anyOf") or schema.get("oneOf") or []:
        if isinstance(option, dict) and "enum" in option:
            return list(option["enum"])
    return None


def _typed(schema: dict[str, Any], value: Any) -> Any:
    kind = _kind(schema)
    if kind == "integer":
        if isinstance(value, bool):
            raise ValueError("Enter a whole number, like 42.")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise ValueError("Enter a whole number, like 42.") from None
        if not isinstance(value, int):
            raise ValueError("Enter a whole number, like 42.")
    elif kind == "number":
        if isinstance(value, bool):
            raise ValueError("Enter a number, like 12.50.")
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError("Enter a number, like 12.50.") from None
            if value.is_integer():
                value = int(value)
        if not isinstance(value, int | float):
            raise ValueError("Enter a number, like 12.50.")
    elif kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "on", "yes", "1"):
            value = True
        elif isinstance(value, str) and value.lower() in ("false", "off", "no", "0"):
            value = False
        if not isinstance(value, bool):
            raise ValueError("Choose yes or no.")
    elif kind == "string":
        if not isinstance(value, str):
            raise ValueError("Enter text.")
        limit = schema.get("maxLength")
        if isinstance(limit, int) and len(value) > limit:
            raise ValueError(f"Use at most {limit} characters.")
    elif kind == "object" and not isinstance(value, dict):
        raise ValueError("Enter an object (JSON).")
    elif kind == "array" and not isinstance(value, list):
        raise ValueError("Enter a list (JSON).")
    choices = _enum(schema)
    if choices is not None and value not in choices:
        raise ValueError(
            "Choose one of " + ", ".join(str(choice) for choice in choices) + "."
        )
    return value


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


def _decide(task: ReviewTask, user: Any, *, approved: bool, comment: str) -> FlowRun:
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
    if current.kind != TaskKind.APPROVAL:
        raise TaskError("Only an approval is approved or rejected.")
    try:
        return services.decide_approval(
            current, user, approved=approved, comment=comment
        )
    except PermanentError as error:
        raise TaskError(error.message) from None
