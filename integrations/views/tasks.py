"""One review task: what it is about, what it needs, and what a reviewer can
do about it (claim, hand over, fix, retry, approve or reject, dismiss).

Every rule (who sees which task, who may do what, what a fix must hold) is in
``integrations.reviews``; these views turn its refusals into plain messages.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from csp.constants import SELF
from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from connectors.errors import ConnectorError, PermanentError
from integrations import blobs, reviews
from integrations.models import FlowRun, ReviewTask, TaskKind
from integrations.reviews.values import form_fields, form_values, needed_fields
from integrations.views.common import back_to, comment_of, mark_due, refused
from integrations.views.runs import (
    STEP_TYPE_LABELS,
    decorate,
    pretty_json,
    seconds_text,
    step_labels,
)

VIEW = "integrations.view_reviewtask"
CHANGE = "integrations.change_reviewtask"
# Documents shown in the page; any other kind is offered as a download only
# (an SVG or an HTML file could carry script).
PREVIEW_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
PREVIEW_PDF = {"application/pdf"}


def _known_values(task: ReviewTask, run: FlowRun, steps: list[Any]) -> dict[str, Any]:
    """What the run already holds for the fields: the step's input first, then
    the reviewer's earlier values, then the trigger's payload and variables."""
    known: dict[str, Any] = {}
    for source in (
        run.context.get("vars") or {},
        run.payload if isinstance(run.payload, dict) else {},
        *[
            step.input
            for step in steps
            if step.step_key == task.step_key and isinstance(step.input, dict)
        ],
        (run.context.get("overrides") or {}).get(task.step_key) or {},
    ):
        if isinstance(source, dict):
            known.update({k: v for k, v in source.items() if v not in (None, "")})
    return known


def _previews(task: ReviewTask, run: FlowRun) -> list[dict[str, Any]]:
    previews = []
    for key, refs in (run.context.get("documents") or {}).items():
        for ref in refs or []:
            if not isinstance(ref, dict) or not ref.get("sha256"):
                continue
            media_type = ref.get("media_type", "")
            previews.append(
                {
                    "key": key,
                    "name": ref.get("name") or ref["sha256"][:12],
                    "media_type": media_type,
                    "size": ref.get("size"),
                    "url": reverse("task-document", args=[task.pk, ref["sha256"]]),
                    "image": media_type in PREVIEW_IMAGES,
                    "pdf": media_type in PREVIEW_PDF,
                }
            )
    return previews


def _awaiting(task: ReviewTask) -> Any:
    """The workspace document a workspace approval task is about, or None."""
    from workspaces.models import DocumentStatus, WorkspaceDocument

    if not task.workspace_id or task.kind != TaskKind.APPROVAL:
        return None
    return (
        WorkspaceDocument.objects.filter(
            workspace=task.workspace_id,
            document_type=task.document_type,
            status=DocumentStatus.AWAITING_APPROVAL,
        )
        .order_by("-filed_at", "-pk")
        .first()
    )


def _workspace_previews(task: ReviewTask) -> list[dict[str, Any]]:
    document = _awaiting(task)
    if document is None:
        return []
    media_type = mimetypes.guess_type(document.name)[0] or ""
    return [
        {
            "key": task.document_type,
            "name": document.name,
            "media_type": media_type,
            "size": document.size,
            "url": reverse("task-workspace-document", args=[task.pk]),
            "image": media_type in PREVIEW_IMAGES,
            "pdf": media_type in PREVIEW_PDF,
        }
    ]


def _task_context(
    request: HttpRequest, task: ReviewTask, **extra: Any
) -> dict[str, Any]:
    now = timezone.now()
    mark_due(task, now)
    run = (
        FlowRun.objects.select_related("flow", "version").filter(pk=task.run_id).first()
    )
    steps: list[Any] = []
    payload_text, payload_cut = "", False
    if run is not None:
        decorate(run)
        labels = step_labels(run.version)
        steps = list(run.steps.order_by("started_at", "pk"))
        for step in steps:
            step.label = labels.get(step.step_key, step.step_key)
            step.type_label = STEP_TYPE_LABELS.get(step.step_type, step.step_type)
            step.duration = seconds_text(step.duration_ms / 1000)
        payload_text, payload_cut = pretty_json(run.payload)
    errors = [str(e) for e in task.needed.get("errors") or [] if str(e).strip()]
    if not errors and task.reason:
        errors = [task.reason]
    user = request.user
    can_change = user.has_perm(CHANGE) and task.is_pending
    known = _known_values(task, run, steps) if run is not None else {}
    context = {
        "task": task,
        "run": run,
        "steps": steps,
        "step_label": next(
            (step.label for step in steps if step.step_key == task.step_key),
            task.step_key,
        ),
        "payload_text": payload_text,
        "payload_cut": payload_cut,
        "problems": errors,
        "can_change": can_change,
        "is_mine": task.assignee_id == user.pk,
        "queue_users": list(
            get_user_model()
            .objects.filter(groups__name=task.queue, is_active=True)
            .order_by("username")
            .distinct()
        )
        if can_change and task.queue
        else [],
        "fields": form_fields(needed_fields(task.needed), known),
        "previews": _previews(task, run)
        if run is not None
        else _workspace_previews(task),
        "document_needed": task.needed.get("document", ""),
        "checks": [
            check
            for check in task.needed.get("checks") or []
            if isinstance(check, dict)
        ],
        "partner": task.needed.get("partner", ""),
        **_conflicts(task),
    }
    context.update(extra)
    return context


def _conflicts(task: ReviewTask) -> dict[str, Any]:
    """A metadata conflict task's open conflicts and the two systems' names."""
    if task.kind != TaskKind.METADATA_CONFLICT or not task.workspace_id:
        return {}
    from workspaces import sync
    from workspaces.models import ConflictStatus, SyncOwner

    workspace = task.workspace
    conflicts = list(
        workspace.conflicts.filter(status=ConflictStatus.OPEN)
        .select_related("rule")
        .order_by("rule__position", "rule_id")
    )
    for conflict in conflicts:
        conflict.system_text = sync.shown(conflict.system_value)
        conflict.ecm_text = sync.shown(conflict.ecm_value)
        base = conflict.base_system
        conflict.base_text = sync.shown(conflict.base_ecm if base is None else base)
    return {
        "conflicts": conflicts,
        "system_name": sync.side_name(workspace, SyncOwner.SYSTEM),
        "ecm_name": sync.side_name(workspace, SyncOwner.ECM),
    }


@login_required
@permission_required(VIEW, raise_exception=True)
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = reviews.get_visible_task(request.user, pk)
    return render(
        request, "integrations/tasks/task_detail.html", _task_context(request, task)
    )


def _changing(view: Any) -> Any:
    """login + the change permission (a Viewer gets 403) + POST only."""
    return login_required(
        permission_required(CHANGE, raise_exception=True)(require_POST(view))
    )


@_changing
def task_claim(request: HttpRequest, pk: int) -> HttpResponse:
    task = reviews.get_visible_task(request.user, pk)
    try:
        reviews.claim(task, request.user)
    except (reviews.TaskError, PermissionDenied) as error:
        refused(request, error)
    else:
        messages.success(request, "The task is yours now: others see you work on it.")
    return HttpResponseRedirect(back_to(request, reverse("task-detail", args=[pk])))


@_changing
def task_unclaim(request: HttpRequest, pk: int) -> HttpResponse:
    task = reviews.get_visible_task(request.user, pk)
    try:
        reviews.unclaim(task, request.user)
    except (reviews.TaskError, PermissionDenied) as error:
        refused(request, error)
    else:
        messages.success(request, "The task is back in its queue for anyone to take.")
    return redirect("task-detail", pk=pk)


@_changing
def task_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    task = reviews.get_visible_task(request.user, pk)
    assignee_id = request.POST.get("assignee", "")
    assignee = (
        get_user_model().objects.filter(pk=int(assignee_id), is_active=True).first()
        if assignee_id.isdigit()
        else None
    )
    if assignee is None:
        messages.error(request, "Choose who should work on the task.")
        return redirect("task-detail", pk=pk)
    try:
        reviews.reassign(task, request.user, assignee)
    except (reviews.TaskError, PermissionDenied) as error:
        refused(request, error)
    else:
        name = assignee.get_full_name() or assignee.username
        messages.success(request, f"The task is now assigned to {name}.")
    return redirect("task-detail", pk=pk)


def _after_fix(request: HttpRequest, run: FlowRun | None, text: str) -> HttpResponse:
    messages.success(request, text)
    if run is not None:
        return redirect("run-detail", pk=run.pk)
    return redirect("tasks")


def _to_workspace(request: HttpRequest, task: ReviewTask, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("workspace-detail", pk=task.workspace_id)


@_changing
def task_values(request: HttpRequest, pk: int) -> HttpResponse:
    """Incomplete metadata: the reviewer's values; the run goes on with them."""
    task = reviews.get_visible_task(request.user, pk)
    fields = needed_fields(task.needed)
    posted = {name: request.POST.get(name, "") for name in fields}
    comment = comment_of(request)
    values, errors = form_values(fields, posted)
    if not errors:
        try:
            new_run = reviews.resolve_with_values(
                task, request.user, values, comment=comment
            )
        except reviews.InvalidValues as error:
            errors = {str(k): str(v) for k, v in error.errors.items()}
            if not errors:
                messages.error(request, error.message)
        except (reviews.TaskError, PermissionDenied) as error:
            refused(request, error)
            return redirect("task-detail", pk=pk)
        else:
            return _after_fix(
                request,
                new_run,
                f"Thank you: the run goes on with your values as run {new_run.pk}.",
            )
    task.refresh_from_db()
    context = _task_context(request, task, comment=comment)
    context["fields"] = form_fields(fields, {}, posted=posted, errors=errors)
    context["form_errors"] = errors
    messages.error(
        request, "Some values need another look: see the notes next to the fields."
    )
    return render(request, "integrations/tasks/task_detail.html", context, status=400)


@_changing
def task_document(request: HttpRequest, pk: int) -> HttpResponse:
    """Missing document: the reviewer uploads it; the run goes on with it."""
    task = reviews.get_visible_task(request.user, pk)
    upload = request.FILES.get("document")
    if upload is None:
        messages.error(request, "Choose the document to upload first.")
        return redirect("task-detail", pk=pk)
    try:
        new_run = reviews.resolve_with_document(
            task, request.user, upload, comment=comment_of(request)
        )
    except (reviews.TaskError, PermissionDenied, PermanentError) as error:
        refused(request, error)
        return redirect("task-detail", pk=pk)
    if new_run is None:
        return _to_workspace(
            request, task, f"Thank you: “{upload.name}” is filed into the workspace."
        )
    return _after_fix(
        request,
        new_run,
        f"Thank you: the run goes on with “{upload.name}” as run {new_run.pk}.",
    )


@_changing
def task_conflicts(request: HttpRequest, pk: int) -> HttpResponse:
    """Metadata conflict: the value to keep for each field, written to both
    systems."""
    from workspaces.sync import Choice

    task = reviews.get_visible_task(request.user, pk)
    choices: dict[int, Choice] = {}
    missing_value = []
    for conflict_id in request.POST.getlist("conflict"):
        if not conflict_id.isdigit():
            continue
        keep = request.POST.get(f"keep-{conflict_id}", "")
        if keep == "value":
            value = request.POST.get(f"value-{conflict_id}", "").strip()
            if not value:
                missing_value.append(conflict_id)
                continue
            choices[int(conflict_id)] = Choice("value", value[:4000])
        elif keep in ("system", "ecm"):
            choices[int(conflict_id)] = Choice(keep)
    if missing_value:
        messages.error(request, "Type the value to keep, or choose one of the two.")
        return redirect("task-detail", pk=pk)
    try:
        reviews.resolve_conflicts(task, request.user, choices, comment_of(request))
    except (reviews.TaskError, PermissionDenied) as error:
        refused(request, error)
        return redirect("task-detail", pk=pk)
    task.refresh_from_db()
    if task.is_pending:
        messages.success(
            request, "Thank you: those fields are in step. Some are still waiting."
        )
        return redirect("task-detail", pk=pk)
    return _to_workspace(
        request, task, "Thank you: both systems now hold the values you chose."
    )


@_changing
def task_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Failed transfer: try again from the step that failed, on the latest version."""
    task = reviews.get_visible_task(request.user, pk)
    try:
        new_run = reviews.retry(
            task, request.user, version="latest", comment=comment_of(request)
        )
    except (reviews.TaskError, PermissionDenied, PermanentError) as error:
        refused(request, error)
        return redirect("task-detail", pk=pk)
    return _after_fix(
        request,
        new_run,
        f"Trying again as run {new_run.pk}. This page shows how it goes.",
    )


@_changing
def task_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approval: approve, or reject with a comment."""
    task = reviews.get_visible_task(request.user, pk)
    decision = request.POST.get("decision")
    comment = comment_of(request)
    if decision not in ("approve", "reject"):
        messages.error(request, "Choose Approve or Reject.")
        return redirect("task-detail", pk=pk)
    if decision == "reject" and not comment:
        context = _task_context(
            request,
            task,
            comment_error="Say why you reject it: the person who asked reads this.",
        )
        return render(
            request, "integrations/tasks/task_detail.html", context, status=400
        )
    try:
        if decision == "approve":
            new_run = reviews.approve(task, request.user, comment=comment)
        else:
            new_run = reviews.reject(task, request.user, comment)
    except (reviews.TaskError, PermissionDenied, PermanentError) as error:
        refused(request, error)
        return redirect("task-detail", pk=pk)
    if task.workspace_id:
        return _to_workspace(
            request,
            task,
            "Approved: the checklist counts it now."
            if decision == "approve"
            else "Rejected: a new document is asked for.",
        )
    return _after_fix(
        request,
        new_run,
        "Approved: the run goes on."
        if decision == "approve"
        else "Rejected: the run stops here.",
    )


@_changing
def task_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    task = reviews.get_visible_task(request.user, pk)
    reason = comment_of(request, "reason")
    if not reason:
        context = _task_context(
            request,
            task,
            reason_error="Say why nothing needs to be done: the reason is kept.",
        )
        return render(
            request, "integrations/tasks/task_detail.html", context, status=400
        )
    try:
        reviews.dismiss(task, request.user, reason)
    except (reviews.TaskError, PermissionDenied) as error:
        refused(request, error)
        return redirect("task-detail", pk=pk)
    messages.success(request, f"Task {task.pk} was dismissed. The reason is kept.")
    return redirect("tasks")


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF]})
def task_document_file(request: HttpRequest, pk: int, sha256: str) -> HttpResponse:
    """One of the run's documents, for the preview on the task page.

    Only documents of the task's own run are served; PDFs and plain images
    inline (this site may frame them), anything else as a download.
    """
    task = reviews.get_visible_task(request.user, pk)
    run = FlowRun.objects.only("context").get(pk=task.run_id)
    ref = next(
        (
            ref
            for refs in (run.context.get("documents") or {}).values()
            for ref in refs or []
            if isinstance(ref, dict) and ref.get("sha256") == sha256
        ),
        None,
    )
    if ref is None:
        raise Http404("This run has no such document.")
    try:
        document = blobs.open_document(ref)
    except PermanentError as error:
        raise Http404(error.message) from error
    media_type = ref.get("media_type") or "application/octet-stream"
    inline = media_type in PREVIEW_IMAGES | PREVIEW_PDF
    response = StreamingHttpResponse(
        iter(document),
        content_type=media_type if inline else "application/octet-stream",
    )
    response["Content-Disposition"] = content_disposition_header(
        not inline, ref.get("name") or sha256[:12]
    )
    if ref.get("size") is not None:
        response["Content-Length"] = str(ref["size"])
    return response


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": [SELF]})
def task_workspace_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The workspace document an approval task is about, streamed from
    Content Server for the reviewer to read; every read is audited."""
    from workspaces.access import audit_access, from_ecm

    task = reviews.get_visible_task(request.user, pk)
    document = _awaiting(task)
    if document is None:
        raise Http404("No document of this task waits for approval.")
    try:
        content = from_ecm(task.workspace, document)
    except ConnectorError as error:
        return HttpResponse(
            error.message, status=502, content_type="text/plain; charset=utf-8"
        )
    audit_access(
        request.user,
        task.workspace.business_key,
        f"read {document.name} to decide task {task.pk}",
        document=document,
    )
    media_type = content.media_type or "application/octet-stream"
    inline = media_type in PREVIEW_IMAGES | PREVIEW_PDF
    response = StreamingHttpResponse(
        iter(content),
        content_type=media_type if inline else "application/octet-stream",
    )
    response["Content-Disposition"] = content_disposition_header(
        not inline, document.name
    )
    response["Cache-Control"] = "no-store"
    return response
