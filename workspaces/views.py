"""Workspaces pages: the list with search by business key, and one
workspace with its checklist, links to other systems and documents."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Case, Q, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.models import AuditEvent
from audit.services import Actor
from connectors.errors import ConnectorError
from integrations.models import PENDING_STATUSES
from workspaces import records, sync
from workspaces.checklist import evaluate
from workspaces.models import (
    ConflictStatus,
    SyncOwner,
    Workspace,
    WorkspaceHold,
    WorkspaceType,
)

VIEW = "workspaces.view_workspace"
PAGE_SIZE = 50
HOLD = "workspaces.add_workspacehold"
RELEASE = "workspaces.change_workspacehold"
SYNC = "workspaces.change_workspace"
RECENT_CONFLICTS = 5
TIMELINE = 20  # newest audit events of the business object on the page


@login_required
@permission_required(VIEW, raise_exception=True)
def workspace_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:300]
    type_key = request.GET.get("type", "")
    workspaces = Workspace.objects.select_related("workspace_type").prefetch_related(
        "workspace_type__requirements", "documents"
    )
    if query:
        workspaces = workspaces.filter(
            Q(business_key__icontains=query) | Q(name__icontains=query)
        )
    if type_key:
        workspaces = workspaces.filter(workspace_type__key=type_key)
    page = Paginator(workspaces.order_by("-updated_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    for workspace in page.object_list:
        workspace.checklist = evaluate(
            workspace.workspace_type.requirements.all(),
            workspace.documents.all(),
            today,
        )
    return render(
        request,
        "workspaces/workspace_list.html",
        {
            "page": page,
            "q": query,
            "type_key": type_key,
            "types": WorkspaceType.objects.only("key", "name"),
            "filtered": bool(query or type_key),
        },
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def workspace_detail(request: HttpRequest, pk: int) -> HttpResponse:
    workspace = get_object_or_404(
        Workspace.objects.select_related(
            "workspace_type__connection", "workspace_type__system_connection"
        ),
        pk=pk,
    )
    documents = list(
        workspace.documents.select_related("run").order_by("-filed_at", "-pk")
    )
    requirements = list(workspace.workspace_type.requirements.all())
    labels = {r.document_type: r.label for r in requirements}
    for document in documents:
        document.type_label = labels.get(document.document_type, document.document_type)
    checklist = evaluate(requirements, documents, timezone.localdate())
    tasks = {
        task.document_type: task
        # workspace_id too: the related manager sets it on each row
        for task in workspace.tasks.filter(status__in=PENDING_STATUSES).only(
            "pk", "kind", "document_type", "status", "workspace_id"
        )
    }
    events = (
        list(
            AuditEvent.objects.filter(business_object=workspace.business_key)
            .only("sequence", "event_type", "summary", "occurred_at", "actor_name")
            .order_by("-sequence")[:TIMELINE]
        )
        if request.user.has_perm("audit.view_auditevent")
        else None
    )
    return render(
        request,
        "workspaces/workspace_detail.html",
        {
            "workspace": workspace,
            "checklist": checklist,
            "items": [
                (item, tasks.get(item.requirement.document_type))
                for item in checklist.items
            ],
            "documents": documents,
            "events": events,
            "timeline_limit": TIMELINE,
            "links": list(workspace.links.all()),
            "holds": list(workspace.holds.select_related("applied_by")),
            "can_hold": request.user.has_perm(HOLD),
            "can_release": request.user.has_perm(RELEASE),
            "can_sync": request.user.has_perm(SYNC),
            **_sync_status(workspace, tasks.get("")),
        },
    )


def _sync_status(workspace: Workspace, task: object) -> dict[str, object]:
    """Each synced field with its values at the last sync and whether it
    waits for a reviewer; the latest conflicts."""
    wtype = workspace.workspace_type
    rules = list(wtype.sync_rules.all())
    if not rules or not wtype.system_connection_id:
        return {"sync_rules": []}
    bases = {value.rule_id: value for value in workspace.synced_values.all()}
    # One query for both: every open conflict (at most one per rule) first,
    # then the newest others, enough to hold the newest few of all.
    found = list(
        workspace.conflicts.select_related("resolved_by", "rule")
        .annotate(waiting=Case(When(status=ConflictStatus.OPEN, then=0), default=1))
        .order_by("waiting", "-detected_at", "-pk")[: RECENT_CONFLICTS + len(rules)]
    )
    waiting = {c.rule_id: c for c in found if c.status == ConflictStatus.OPEN}
    conflicts = sorted(found, key=lambda c: (c.detected_at, c.pk), reverse=True)[
        :RECENT_CONFLICTS
    ]
    for rule in rules:
        # A field waiting for a reviewer shows the two values found; any
        # other its values at the last sync.
        base = bases.get(rule.pk)
        conflict = waiting.get(rule.pk)
        rule.synced = base
        rule.waiting = conflict is not None
        if conflict is not None:
            rule.system_text = sync.shown(conflict.system_value)
            rule.ecm_text = sync.shown(conflict.ecm_value)
        else:
            rule.system_text = sync.shown(base.system_value) if base else ""
            rule.ecm_text = sync.shown(base.ecm_value) if base else ""
    for conflict in conflicts:
        conflict.kept_text = sync.shown(conflict.kept)
    return {
        "sync_rules": rules,
        "sync_conflicts": conflicts,
        "conflict_task": task,
        "system_name": sync.side_name(workspace, SyncOwner.SYSTEM),
        "ecm_name": sync.side_name(workspace, SyncOwner.ECM),
    }


@login_required
@permission_required(SYNC, raise_exception=True)
@require_POST
def workspace_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """Sync the workspace's metadata now (a reading of both systems and the
    writes the rules call for: a few seconds)."""
    workspace = get_object_or_404(Workspace, pk=pk)
    try:
        report = sync.sync_workspace(workspace, actor=Actor.user(request.user))
    except ConnectorError as error:
        messages.error(request, f"The sync stopped: {error.message}")
    else:
        waiting = [c for c in report.conflicts if not c.by_rule] or report.waiting
        (messages.warning if waiting else messages.success)(
            request, f"Sync done: {report.summary.lower()}."
        )
    return redirect("workspace-detail", pk=pk)


@login_required
@permission_required(RELEASE, raise_exception=True)
@require_POST
def workspace_release_hold(request: HttpRequest, pk: int, hold: int) -> HttpResponse:
    """Lift a legal hold from every document of the workspace."""
    found = get_object_or_404(
        WorkspaceHold.objects.select_related("workspace__workspace_type"),
        pk=hold,
        workspace_id=pk,
    )
    try:
        records.release_hold(
            found, request.user, request.POST.get("comment", "").strip()[:2000]
        )
    except ConnectorError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"The hold “{found.name}” is released: its documents can be deleted "
            "again when their retention allows it.",
        )
    return redirect("workspace-detail", pk=pk)


@login_required
@permission_required(HOLD, raise_exception=True)
@require_POST
def workspace_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """Put every document of the workspace under a legal hold."""
    workspace = get_object_or_404(
        Workspace.objects.select_related("workspace_type"), pk=pk
    )
    name = request.POST.get("name", "").strip()[:200]
    comment = request.POST.get("comment", "").strip()[:2000]
    try:
        hold = records.apply_hold(workspace, name, request.user, comment)
    except ConnectorError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"The hold “{hold.name}” is on all {hold.nodes} documents in Content "
            "Server: none of them can be deleted while it lasts.",
        )
    return redirect("workspace-detail", pk=pk)
