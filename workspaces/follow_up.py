"""What a workspace's checklist asks of people and flows.

``follow_up`` brings the review tasks and the workspace's completion in line
with its checklist, and is called whenever the checklist may have changed (a
document filed, uploaded, approved or rejected; a new workspace; the daily
expiry check):

- each required item that is missing, expired or rejected has one open
  "missing document" task, and each document awaiting approval one
  "approval" task, for the type's review queue; a pending task whose item no
  longer needs it is resolved (at most one pending task per item: a unique
  constraint);
- the first time the checklist is complete (since it was last incomplete),
  ``completed_at`` is set in a conditional UPDATE, so one caller wins, and
  that caller records the event and starts the flows whose trigger is
  "workspace complete" for the type, once.

A reviewer's upload (``upload``, then ``keep_upload``) goes through the
type's Content Server connection, streamed and hashed, and is recorded like
a flow's filing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import Actor, Event, EventType, record_many
from connectors.base import ActionContext, Document
from integrations import notifications
from integrations.models import (
    PENDING_STATUSES,
    ReviewTask,
    TaskKind,
    TaskStatus,
    sla_due,
)
from workspaces.checklist import Checklist, Item, ItemState
from workspaces.models import DocumentStatus, Workspace, WorkspaceDocument
from workspaces.records import govern
from workspaces.services import (
    ENGINE,
    Filing,
    checklist,
    record_filing,
    requirement_for,
)

NEEDS_A_DOCUMENT = (ItemState.MISSING, ItemState.EXPIRED, ItemState.REJECTED)


def follow_up(workspace: Workspace, *, requested_by: Any = None) -> Checklist:
    """Tasks and completion as the checklist stands now; the checklist.
    ``requested_by`` (who filed a document) may not approve it."""
    with transaction.atomic():
        current = checklist(workspace)
        pending = {
            task.document_type: task
            for task in ReviewTask.objects.select_for_update().filter(
                workspace=workspace, status__in=PENDING_STATUSES
            )
        }
        for item in current.items:
            _follow_item(
                workspace,
                item,
                pending.get(item.requirement.document_type),
                requested_by,
            )
        _completion(workspace, current)
    return current


def follow_up_expired(today: date | None = None, days: int = 3) -> int:
    """Follow up the workspaces whose documents expired in the last ``days``
    days (the daily check; it runs again harmlessly); how many."""
    today = today or timezone.localdate()
    ids = (
        WorkspaceDocument.objects.filter(
            valid_until__lt=today, valid_until__gte=today - timedelta(days=days)
        )
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    workspaces = Workspace.objects.select_related("workspace_type").filter(
        pk__in=list(ids)
    )
    for workspace in workspaces:
        follow_up(workspace)
    return len(workspaces)


def upload(task: ReviewTask, upload: Any, limit: int) -> Filing:
    """Send a reviewer's upload for ``task``'s checklist item into the
    workspace in the ECM, streamed and hashed; what was filed. No database
    writes: it runs outside any transaction (an upload may take minutes), and
    is idempotent by the task (a retry finds the same document)."""
    from integrations.engine.connections import connector_for

    workspace = Workspace.objects.select_related("workspace_type").get(
        pk=task.workspace_id
    )
    requirement = requirement_for(workspace.workspace_type, task.document_type)
    document = Document(
        upload.name or "document",
        upload.chunks(),
        media_type=getattr(upload, "content_type", None) or "application/octet-stream",
        size=getattr(upload, "size", None),
        source_ref=f"task:{task.pk}",
        max_bytes=limit,
    )
    _, connector = connector_for(workspace.workspace_type.connection_id)
    output, _ = connector.run_action(
        "upload_document",
        {
            "parent_id": workspace.ecm_node_id,
            "folder_path": requirement.folder,
            "source_key": f"xc-task-{task.pk}",
            "source_system": "xConnector review",
        },
        ActionContext(idempotency_key=f"xc-task-{task.pk}", documents=[document]),
    )
    filing = Filing(
        node_id=int(output["node_id"]),
        version=int(output.get("version") or 1),
        name=str(output.get("name") or document.name),
        sha256=str(output.get("sha256") or ""),
        size=output.get("size"),
    )
    govern(workspace, requirement, filing.node_id)
    return filing


def keep_upload(task: ReviewTask, user: Any, filing: Filing) -> None:
    """Record a reviewer's upload on the workspace and in the audit trail (in
    the caller's transaction)."""
    workspace = Workspace.objects.select_related("workspace_type").get(
        pk=task.workspace_id
    )
    requirement = requirement_for(workspace.workspace_type, task.document_type)
    record_filing(workspace, requirement, filing)
    record_many(
        [
            Event(
                EventType.DOCUMENT_TRANSFERRED,
                Actor.user(user),
                summary=f"{filing.name} filed into “{workspace.name}” as "
                f"{requirement.label} by {user.get_username()}"[:500],
                payload={"task": task.pk, "document_type": requirement.document_type},
                system="otcs",
                business_object=workspace.business_key,
                document_ref=filing.name[:500],
                target_ref=str(filing.node_id),
                document_sha256=filing.sha256,
                document_size=filing.size,
            )
        ]
    )


def decide_document(
    task: ReviewTask, user: Any, *, approved: bool, comment: str
) -> None:
    """Approve or reject the document ``task`` asks about (task locked by the
    caller); the task is closed and the checklist followed up. Whoever filed
    the document may not decide on it."""
    if task.requested_by_id is not None and task.requested_by_id == user.pk:
        raise PermissionDenied(
            "You filed this document, so someone else has to approve or reject it."
        )
    document = (
        WorkspaceDocument.objects.filter(
            workspace_id=task.workspace_id,
            document_type=task.document_type,
            status=DocumentStatus.AWAITING_APPROVAL,
        )
        .order_by("-filed_at", "-pk")
        .first()
    )
    decision = "approved" if approved else "rejected"
    if document is not None:
        WorkspaceDocument.objects.filter(pk=document.pk).update(
            status=DocumentStatus.APPROVED if approved else DocumentStatus.REJECTED
        )
    ReviewTask.objects.filter(pk=task.pk).update(
        status=TaskStatus.RESOLVED if approved else TaskStatus.REJECTED,
        decision=decision,
        comment=comment,
        resolution={"decision": decision, "comment": comment},
        resolved_at=timezone.now(),
        resolved_by=user,
    )
    record_many(
        [
            Event(
                EventType.APPROVAL_GRANTED if approved else EventType.APPROVAL_REJECTED,
                Actor.user(user),
                summary=f"{task.title}: {decision} by {user.get_username()}"[:500],
                payload={"task": task.pk, "decision": decision, "comment": comment},
                system="otcs",
                business_object=task.business_object,
                document_ref=document.name[:500] if document else "",
                document_sha256=document.sha256 if document else "",
            )
        ]
    )
    follow_up(Workspace.objects.get(pk=task.workspace_id))


# --- Helpers -----------------------------------------------------------------------


def _follow_item(
    workspace: Workspace, item: Item, pending: ReviewTask | None, requested_by: Any
) -> None:
    wanted = ""
    if item.requirement.required and item.state in NEEDS_A_DOCUMENT:
        wanted = TaskKind.MISSING_DOCUMENT
    elif item.state == ItemState.AWAITING_APPROVAL:
        wanted = TaskKind.APPROVAL
    if pending is not None and pending.kind == wanted:
        return
    if pending is not None:
        # The item moved on (filed, or approved elsewhere): its task is done.
        ReviewTask.objects.filter(pk=pending.pk).update(
            status=TaskStatus.RESOLVED,
            decision="checklist",
            resolution={"decision": "checklist", "state": item.state},
            resolved_at=timezone.now(),
        )
        record_many(
            [
                Event(
                    EventType.TASK_RESOLVED,
                    ENGINE,
                    summary=f"Task {pending.pk} resolved: the {item.label.lower()} "
                    f"is now {item.state_label.lower()}"[:500],
                    payload={"task": pending.pk, "decision": "checklist"},
                    system="otcs",
                    business_object=workspace.business_key,
                )
            ]
        )
    if wanted:
        _open_task(workspace, item, wanted, requested_by)


def _open_task(workspace: Workspace, item: Item, kind: str, requested_by: Any) -> None:
    title, reason = _task_text(workspace, item)
    now = timezone.now()
    wtype = workspace.workspace_type
    try:
        with transaction.atomic():
            task = ReviewTask.objects.create(
                kind=kind,
                workspace=workspace,
                document_type=item.requirement.document_type,
                system="otcs",
                business_object=workspace.business_key[:300],
                queue=wtype.review_queue,
                requested_by=requested_by if kind == TaskKind.APPROVAL else None,
                title=title[:300],
                reason=reason,
                needed={
                    "workspace": workspace.pk,
                    "document_type": item.requirement.document_type,
                    "label": item.label,
                    "state": item.state,
                    "document": item.document.name if item.document else "",
                },
                due_at=sla_due(kind, now),
            )
    except IntegrityError:
        return  # another follow-up opened it a moment ago
    notifications.task_opened(task)
    record_many(
        [
            Event(
                EventType.TASK_OPENED,
                ENGINE,
                summary=f"Task {task.pk} opened: {task.title}"[:500],
                payload={"task": task.pk, "kind": kind, "workspace": workspace.pk},
                system="otcs",
                business_object=workspace.business_key,
            )
        ]
    )


def _task_text(workspace: Workspace, item: Item) -> tuple[str, str]:
    """The task's title and what it asks, in words."""
    label = item.label.lower()
    document = item.document
    if item.state == ItemState.EXPIRED:
        return (
            f"{workspace.name}: {label} expired",
            f"{document.name} was valid until {document.valid_until:%-d %b %Y}: "
            "a current one is needed.",
        )
    if item.state == ItemState.REJECTED:
        return (
            f"{workspace.name}: new {label} needed",
            f"{document.name} was rejected: upload a new one.",
        )
    if item.state == ItemState.AWAITING_APPROVAL:
        return (
            f"{workspace.name}: approve the {label}",
            f"{document.name} was filed and needs approval before the checklist "
            "counts it.",
        )
    return (
        f"{workspace.name}: {label} missing",
        f"Nothing has been received for “{item.label}” yet. Upload it here when "
        "you have it: it is filed into the workspace.",
    )


def _completion(workspace: Workspace, current: Checklist) -> None:
    if not current.complete:
        Workspace.objects.filter(pk=workspace.pk, completed_at__isnull=False).update(
            completed_at=None
        )
        return
    now = timezone.now()
    won = Workspace.objects.filter(pk=workspace.pk, completed_at__isnull=True).update(
        completed_at=now
    )
    if not won:
        return  # complete already, or another caller recorded it
    record_many(
        [
            Event(
                EventType.WORKSPACE_COMPLETED,
                ENGINE,
                summary=f"Workspace “{workspace.name}” has every document "
                f"({current.summary})"[:500],
                payload={
                    "workspace": workspace.pk,
                    "type": workspace.workspace_type.key,
                },
                system="otcs",
                business_object=workspace.business_key,
                target_ref=str(workspace.ecm_node_id or ""),
            )
        ]
    )
    _start_flows(workspace, current, now)


def _start_flows(workspace: Workspace, current: Checklist, now: Any) -> None:
    from integrations.engine.starts import create_run
    from integrations.models import Flow, FlowStatus

    flows = Flow.objects.filter(
        Q(published_version__definition__trigger__type="workspace_complete")
        & Q(
            published_version__definition__trigger__workspace_type=(
                workspace.workspace_type.key
            )
        ),
        status=FlowStatus.ACTIVE,
    ).select_related("published_version")
    payload = {
        "workspace": {
            "id": workspace.pk,
            "type": workspace.workspace_type.key,
            "name": workspace.name,
            "business_key": workspace.business_key,
            "node_id": workspace.ecm_node_id,
            "links": [
                {"system": link.system, "type": link.object_type, "id": link.object_id}
                for link in workspace.links.all()
            ],
            "documents": {
                item.requirement.document_type: {
                    "name": item.document.name,
                    "node_id": item.document.ecm_node_id,
                    "version": item.document.version,
                }
                for item in current.items
                if item.document is not None
            },
        }
    }
    for flow in flows:
        create_run(
            flow,
            payload=payload,
            trigger_kind="workspace_complete",
            event_id=f"workspace-{workspace.pk}-complete-{now:%Y%m%dT%H%M%S%f}",
            source_ref=f"workspace:{workspace.business_key}"[:300],
        )
