"""The reviewers' inbox: the tasks of my queues, one task with what it needs,
and what a reviewer can do about it (claim, fix, retry, approve, dismiss).

Every rule (who sees which task, who may do what, what a fix must hold) is in
``integrations.reviews``; these views turn its refusals into plain messages.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from csp.constants import SELF
from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
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
from django.utils.http import (
    content_disposition_header,
    url_has_allowed_host_and_scheme,
)
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from connectors.errors import PermanentError
from integrations import blobs, reviews
from integrations.models import (
    PENDING_STATUSES,
    Flow,
    FlowRun,
    ReviewTask,
    TaskKind,
)
from integrations.views.runs import (
    STEP_TYPE_LABELS,
    decorate,
    pretty_json,
    seconds_text,
    step_labels,
)

PAGE_SIZE = 50
VIEW = "integrations.view_reviewtask"
CHANGE = "integrations.change_reviewtask"
COMMENT_LIMIT = 2000

# The inbox's tabs: key, label, what an empty tab says.
TABS: list[tuple[str, str, str, str]] = [
    (
        "mine",
        "My tasks",
        "Nothing is assigned to you.",
        "Open “My queues” and claim a task: it then shows here until it is done.",
    ),
    (
        "queues",
        "My queues",
        "Nothing waits in your queues.",
        "When a run stops because a document, a value or a decision is missing, "
        "a task for your team appears here.",
    ),
    (
        "all",
        "All",
        "No tasks yet.",
        "Tasks appear when a run needs a person: a missing document, incomplete "
        "metadata, a failed transfer or an approval.",
    ),
]
ROW_FIELDS = (
    "id",
    "kind",
    "status",
    "priority",
    "due_at",
    "title",
    "business_object",
    "system",
    "queue",
    "flow__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)
SORTS = {"due": "Due date", "priority": "Priority"}
# Documents shown in the page; any other kind is offered as a download only
# (an SVG or an HTML file could carry script).
PREVIEW_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
PREVIEW_PDF = {"application/pdf"}
SYSTEMS_CACHE_KEY = "integrations:task-systems"
BULK_ACTIONS = {"claim": "Claim", "dismiss": "Dismiss", "approve": "Approve"}


# --- Helpers ---------------------------------------------------------------------


def sees_all(user: Any) -> bool:
    """Integration admins see every queue (reviewers only their own)."""
    return user.is_superuser or user.has_perm("integrations.delete_reviewtask")


def due_text(due_at: datetime | None, now: datetime) -> tuple[str, bool]:
    """("Overdue by 3 hours", True), ("Due in 20 min", False) or ("No due date",
    False)."""
    if due_at is None:
        return "No due date", False
    seconds = (due_at - now).total_seconds()
    if seconds < 0:
        return f"Overdue by {span_text(-seconds)}", True
    return f"Due in {span_text(seconds)}", False


def span_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


def mark_due(task: ReviewTask, now: datetime) -> ReviewTask:
    if task.is_pending:
        task.due_label, task.overdue = due_text(task.due_at, now)
    else:
        task.due_label, task.overdue = task.get_status_display(), False
    return task


def back_to(request: HttpRequest, default: str) -> str:
    """The page to return to after an action (only this site's pages)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def refused(request: HttpRequest, error: Exception) -> None:
    """A refusal of the services, in the words they chose."""
    if isinstance(error, PermissionDenied):
        messages.error(request, str(error) or "You are not allowed to do that.")
    elif isinstance(error, (reviews.TaskError, PermanentError)):
        messages.error(request, error.message)
    else:  # pragma: no cover - the except clauses name the kinds above
        messages.error(request, str(error))


def comment_of(request: HttpRequest, name: str = "comment") -> str:
    return request.POST.get(name, "").strip()[:COMMENT_LIMIT]


# --- The inbox -------------------------------------------------------------------


def _filtered(request: HttpRequest, tasks: QuerySet[ReviewTask], now: datetime):
    """Apply the filter form; (tasks, the filters as they are)."""
    kind = request.GET.get("kind", "")
    if kind not in TaskKind.values:
        kind = ""
    flow = request.GET.get("flow", "")
    flow_id = int(flow) if flow.isdigit() else None
    system = request.GET.get("system", "").strip()[:60]
    query = request.GET.get("q", "").strip()[:300]
    overdue = request.GET.get("overdue") == "1"
    if kind:
        tasks = tasks.filter(kind=kind)
    if flow_id:
        tasks = tasks.filter(flow_id=flow_id)
    if system:
        tasks = tasks.filter(system=system)
    if query:
        tasks = tasks.filter(
            Q(business_object__icontains=query) | Q(title__icontains=query)
        )
    if overdue:
        tasks = tasks.filter(status__in=PENDING_STATUSES, due_at__lt=now)
    return tasks, {
        "kind": kind,
        "flow": str(flow_id or ""),
        "system": system,
        "q": query,
        "overdue": "1" if overdue else "",
    }


def _tab_filter(key: str, user: Any) -> Q:
    if key == "mine":
        return Q(assignee=user, status__in=PENDING_STATUSES)
    if key == "queues":
        return Q(status__in=PENDING_STATUSES)
    return Q()


@login_required
@permission_required(VIEW, raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    visible = reviews.visible_tasks(user)
    filtered, filters = _filtered(request, visible, now)
    tab_keys = [key for key, *_ in TABS if key != "all" or sees_all(user)]

    # One query for the count on every tab (the filters still apply). Without
    # the "All" tab only pending tasks count: the inbox index can serve it.
    counting = (
        filtered if "all" in tab_keys else filtered.filter(status__in=PENDING_STATUSES)
    )
    counted = counting.aggregate(
        **{key: Count("id", filter=_tab_filter(key, user)) for key in tab_keys}
    )
    tab_key = request.GET.get("tab", "")
    if tab_key not in tab_keys:
        tab_key = "mine" if counted["mine"] else "queues"
    sort = request.GET.get("sort", "due")
    if sort not in SORTS:
        sort = "due"

    tasks = filtered.filter(_tab_filter(tab_key, user))
    due = F("due_at").asc(nulls_last=True)
    ordering = [due, "priority", "pk"] if sort == "due" else ["priority", due, "pk"]
    # Only the columns a row shows: the sort then moves narrow rows (no
    # "needed" JSON), and the count is the tab's, already known.
    paginator = Paginator(
        tasks.select_related(None)
        .select_related("flow", "assignee")
        .only(*ROW_FIELDS)
        .order_by(*ordering),
        PAGE_SIZE,
    )
    paginator.__dict__["count"] = counted[tab_key]
    page = paginator.get_page(request.GET.get("page"))
    for task in page.object_list:
        mark_due(task, now)

    active = {key: value for key, value in filters.items() if value}
    keep = {**active, **({"sort": sort} if sort != "due" else {})}
    here = {**keep, "tab": tab_key}
    empty = {key: (title, text) for key, _, title, text in TABS}[tab_key]
    return render(
        request,
        "integrations/tasks/inbox.html",
        {
            "page": page,
            "tabs": [
                {
                    "key": key,
                    "label": label,
                    "count": counted[key],
                    "active": key == tab_key,
                    "query": urlencode({**keep, "tab": key}),
                }
                for key, label, *_ in TABS
                if key in tab_keys
            ],
            "tab_key": tab_key,
            "filters": filters,
            "filtered": bool(active),
            "sort": sort,
            "sorts": [
                {"key": key, "label": label, "query": urlencode({**here, "sort": key})}
                for key, label in SORTS.items()
            ],
            "page_query": urlencode(here),
            "here": request.get_full_path(),
            "kinds": TaskKind.choices,
            "flows": Flow.objects.only("pk", "name").order_by("name"),
            "systems": _systems(),
            "empty_title": empty[0] if not active else "No tasks match these filters.",
            "empty_text": empty[1]
            if not active
            else "Choose another kind, flow or system, or clear the search.",
            "counts": _queue_counts(user),
            "can_change": user.has_perm(CHANGE),
            "bulk_actions": BULK_ACTIONS,
        },
    )


def _systems() -> list[str]:
    """The systems tasks name, for the filter: a short list (one per connector)
    that hardly changes, so kept for five minutes instead of scanning every
    task on each page."""
    systems = cache.get(SYSTEMS_CACHE_KEY)
    if systems is None:
        systems = sorted(
            value
            for value in ReviewTask.objects.order_by()
            .values_list("system", flat=True)
            .distinct()
            if value
        )
        cache.set(SYSTEMS_CACHE_KEY, systems, 300)
    return systems


def _queue_counts(user: Any) -> list[dict[str, Any]]:
    counts = reviews.counts_by_queue(user)
    return [
        {"queue": queue or "Unassigned queue", **numbers}
        for queue, numbers in sorted(counts.items(), key=lambda item: item[0] or "")
    ]


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def inbox_counts(request: HttpRequest) -> HttpResponse:
    """The side card alone: the inbox refreshes it every 30 seconds (htmx)."""
    return render(
        request,
        "integrations/tasks/_counts.html",
        {"counts": _queue_counts(request.user)},
    )


@login_required
@permission_required(CHANGE, raise_exception=True)
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    target = back_to(request, reverse("tasks"))
    action = request.POST.get("action", "")
    ids = [int(value) for value in request.POST.getlist("task") if value.isdigit()]
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose Claim, Dismiss or Approve.")
        return HttpResponseRedirect(target)
    if not ids:
        messages.warning(request, "Tick at least one task first.")
        return HttpResponseRedirect(target)
    kwargs: dict[str, Any] = {}
    if action == "dismiss":
        reason = comment_of(request, "reason")
        if not reason:
            messages.error(
                request, "Say why the tasks can be dismissed: the reason is kept."
            )
            return HttpResponseRedirect(target)
        kwargs["reason"] = reason
    elif action == "approve":
        kwargs["comment"] = comment_of(request, "reason")
    try:
        result = reviews.bulk(ids, request.user, action, **kwargs)
    except (reviews.TaskError, PermissionDenied) as error:
        refused(request, error)
        return HttpResponseRedirect(target)
    done, failed = len(result.done), result.failed
    text = f"{done} done"
    if failed:
        reasons = "; ".join(
            f"task {task_id}: {reason}" for task_id, reason in sorted(failed.items())
        )
        text += f", {len(failed)} could not: {reasons}"
        messages.warning(request, text)
    else:
        messages.success(request, text + ".")
    return HttpResponseRedirect(target)


# --- One task --------------------------------------------------------------------


def _field_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def _field_required(schema: dict[str, Any]) -> bool:
    """A field listed as needed must be filled, unless its schema allows null."""
    kind = schema.get("type")
    return not (isinstance(kind, list) and "null" in kind)


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


def fix_fields(
    task: ReviewTask,
    known: dict[str, Any],
    posted: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One form field per needed field, from its JSON Schema."""
    fields = []
    for name, schema in (task.needed.get("fields") or {}).items():
        schema = schema if isinstance(schema, dict) else {}
        kind = _field_type(schema)
        enum = schema.get("enum")
        if posted is not None:
            value: Any = posted.get(name, "")
        else:
            value = known.get(name, schema.get("default", ""))
        if kind == "boolean":
            widget = "checkbox"
            checked = (
                value in (True, "on", "true", "1")
                if posted is None
                else (posted.get(name) == "on")
            )
        else:
            widget = (
                "select"
                if enum
                else ("number" if kind in ("integer", "number") else "text")
            )
            checked = False
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        fields.append(
            {
                "name": name,
                "id": f"field-{name}",
                "label": schema.get("title") or name.replace("_", " ").capitalize(),
                "help": schema.get("description", ""),
                "widget": widget,
                "step": "1" if kind == "integer" else "any",
                "options": [str(option) for option in enum or []],
                "value": "" if value is None else str(value),
                "checked": checked,
                "required": _field_required(schema) and widget != "checkbox",
                "max_length": schema.get("maxLength"),
                "error": (errors or {}).get(name, ""),
            }
        )
    return fields


def parse_values(
    task: ReviewTask, posted: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed values of the fix form; (values, what could not be read)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, schema in (task.needed.get("fields") or {}).items():
        schema = schema if isinstance(schema, dict) else {}
        kind = _field_type(schema)
        if kind == "boolean":
            values[name] = posted.get(name) == "on"
            continue
        raw = posted.get(name, "").strip()
        if raw == "":
            if _field_required(schema):
                errors[name] = "Fill this in: the run cannot go on without it."
            else:
                values[name] = None
            continue
        try:
            if kind == "integer":
                values[name] = int(raw)
            elif kind == "number":
                values[name] = float(raw)
            elif kind in ("object", "array"):
                values[name] = json.loads(raw)
            else:
                values[name] = raw
        except ValueError:
            errors[name] = {
                "integer": "Enter a whole number, like 42.",
                "number": "Enter a number, like 12.50.",
            }.get(kind, "Enter the value as JSON.")
    return values, errors


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
        "fields": fix_fields(task, known),
        "previews": _previews(task, run) if run is not None else [],
        "document_needed": task.needed.get("document", ""),
    }
    context.update(extra)
    return context


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


@_changing
def task_values(request: HttpRequest, pk: int) -> HttpResponse:
    """Incomplete metadata: the reviewer's values; the run goes on with them."""
    task = reviews.get_visible_task(request.user, pk)
    posted = {
        name: request.POST.get(name, "") for name in task.needed.get("fields") or {}
    }
    comment = comment_of(request)
    values, errors = parse_values(task, posted)
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
    context["fields"] = fix_fields(task, {}, posted=posted, errors=errors)
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
    return _after_fix(
        request,
        new_run,
        f"Thank you: the run goes on with “{upload.name}” as run {new_run.pk}.",
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
