"""Run pages: the list with filters, one run's story, and what a person can do
about a run (replay, cancel, approve or reject)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from connectors.errors import PermanentError
from integrations import reviews, services
from integrations.definition import Definition
from integrations.models import (
    PENDING_STATUSES,
    Flow,
    FlowRun,
    FlowVersion,
    ReviewTask,
    RunStatus,
    StepRun,
    Transfer,
)
from integrations.views.common import comment_of, refused
from xconnector.counts import Count as CountOf
from xconnector.counts import ListPage, count_of

PAGE_SIZE = 50
JSON_LIMIT = 20_000  # characters of a step's input or output shown on the page

# The status tabs of the run list: key, label, statuses (None: every run).
STATUS_FILTERS: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("all", "All", None),
    ("review", "Needs review", (RunStatus.NEEDS_REVIEW,)),
    (
        "progress",
        "In progress",
        (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.RETRYING, RunStatus.WAITING),
    ),
    ("succeeded", "Succeeded", (RunStatus.SUCCEEDED,)),
    ("stopped", "Failed or cancelled", (RunStatus.FAILED, RunStatus.CANCELLED)),
]
# Runs that ended without doing their work: their error is shown in the list.
STOPPED = (RunStatus.NEEDS_REVIEW, RunStatus.FAILED, RunStatus.CANCELLED)
REPLAYABLE = (RunStatus.NEEDS_REVIEW, RunStatus.FAILED, RunStatus.CANCELLED)
CANCELLABLE = (
    RunStatus.QUEUED,
    RunStatus.RUNNING,
    RunStatus.RETRYING,
    RunStatus.WAITING,
    RunStatus.NEEDS_REVIEW,
)

TRIGGER_LABELS = {
    "webhook": "Webhook",
    "poll": "Poll",
    "schedule": "Schedule",
    "manual": "Manual",
    "flow_finished": "After another flow",
    "workspace_complete": "Workspace complete",
}
STEP_TYPE_LABELS = {
    "action": "Calls a system",
    "condition": "Checks a condition",
    "router": "Chooses the way on",
    "approval": "Asks for approval",
    "reconcile": "Compares values",
    "workspace": "Finds or opens a workspace",
    "file": "Files into a workspace",
    "sync": "Syncs workspace metadata",
    "wait": "Waits",
    "lookup": "Looks a value up",
    "set": "Keeps values for later",
}


# --- Helpers shared with the flow pages -----------------------------------------


def duration_text(start: datetime | None, end: datetime | None) -> str:
    """ "1.4 s", "3 min 5 s", "2 h 10 min"; empty when the run has not started."""
    if start is None:
        return ""
    seconds = ((end or timezone.now()) - start).total_seconds()
    return seconds_text(max(seconds, 0))


def seconds_text(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def decorate(run: FlowRun) -> FlowRun:
    """Add what the templates show about a run but the model does not hold."""
    run.trigger_label = TRIGGER_LABELS.get(run.trigger_kind, run.trigger_kind)
    last_step_at = getattr(run, "last_step_at", None)
    if run.is_active:
        end = None  # still going: until now
    elif run.status in (RunStatus.NEEDS_REVIEW, RunStatus.REPLAYED) and last_step_at:
        end = last_step_at  # it worked until its last step, then waited
    else:
        end = run.finished_at or last_step_at or run.started_at
    run.duration = duration_text(run.started_at, end)
    run.stopped = run.status in STOPPED
    run.error_line = run.error.strip().splitlines()[0] if run.error.strip() else ""
    return run


def with_last_step(runs: QuerySet[FlowRun]) -> QuerySet[FlowRun]:
    """Annotate when each run's last step ended (a stopped run's end)."""
    last = StepRun.objects.filter(run=OuterRef("pk")).order_by("-finished_at")
    return runs.annotate(last_step_at=Subquery(last.values("finished_at")[:1]))


def parsed_definition(version: FlowVersion | None) -> Definition | None:
    if version is None:
        return None
    try:
        return Definition.model_validate(version.definition)
    except ValidationError:
        return None


def step_labels(version: FlowVersion) -> dict[str, str]:
    definition = parsed_definition(version)
    if definition is None:
        return {}
    return {step.key: step.label for step in definition.steps}


def pretty_json(value: Any) -> tuple[str, bool]:
    """Indented JSON, cut at ``JSON_LIMIT`` characters; (text, was cut)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > JSON_LIMIT:
        return text[:JSON_LIMIT], True
    return text, False


def last_day_counts(runs: QuerySet[FlowRun]) -> dict[str, int]:
    """Runs created in the last 24 hours by status."""
    since = timezone.now() - timedelta(hours=24)
    return dict(
        runs.filter(created_at__gte=since)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )


# --- The list --------------------------------------------------------------------


# The "started" filter of the runs list: key -> (label, how far back).
PERIODS = {
    "1h": ("In the last hour", timedelta(hours=1)),
    "24h": ("In the last 24 hours", timedelta(hours=24)),
    "7d": ("In the last 7 days", timedelta(days=7)),
    "30d": ("In the last 30 days", timedelta(days=30)),
}


@login_required
@permission_required("integrations.view_flowrun", raise_exception=True)
def run_list(request: HttpRequest) -> HttpResponse:
    status_key = request.GET.get("status", "all")
    if status_key not in {key for key, _, _ in STATUS_FILTERS}:
        status_key = "all"
    flow_id = request.GET.get("flow", "")
    flow_id = int(flow_id) if flow_id.isdigit() else None
    query = request.GET.get("q", "").strip()
    since_key = request.GET.get("since", "")
    if since_key not in PERIODS:
        since_key = ""

    runs = FlowRun.objects.all()
    if flow_id:
        runs = runs.filter(flow_id=flow_id)
    if query:
        runs = runs.filter(
            Q(business_key__icontains=query) | Q(event_id__icontains=query)
        )
    if since_key:
        runs = runs.filter(created_at__gte=timezone.now() - PERIODS[since_key][1])

    # The count on every tab (flow and search still apply): exact in one
    # query while there are at most EXACT_UP_TO runs, else per tab, each
    # reading at most that many rows, then the planner's estimate.
    total = count_of(runs)
    if total.exact:
        counted = runs.aggregate(
            **{
                key: Count("id", filter=Q(status__in=statuses))
                for key, _, statuses in STATUS_FILTERS
                if statuses
            }
        )
        counts = {key: CountOf(value) for key, value in counted.items()}
    else:
        counts = {
            key: count_of(runs.filter(status__in=statuses))
            for key, _, statuses in STATUS_FILTERS
            if statuses
        }
    counts["all"] = total
    tabs = [
        {"key": key, "label": label, "count": counts[key], "active": key == status_key}
        for key, label, _ in STATUS_FILTERS
    ]
    statuses = dict((key, statuses) for key, _, statuses in STATUS_FILTERS)[status_key]
    if statuses:
        runs = runs.filter(status__in=statuses)

    page = ListPage(
        with_last_step(runs.select_related("flow", "version")).order_by(
            "-created_at", "-pk"
        ),
        request.GET.get("page"),
        PAGE_SIZE,
        counts[status_key],
    )
    for run in page.object_list:
        decorate(run)

    day = last_day_counts(FlowRun.objects.all())
    summary = [
        {"status": status, "label": status.label, "count": day.get(status, 0)}
        for status in (
            RunStatus.SUCCEEDED,
            RunStatus.NEEDS_REVIEW,
            RunStatus.FAILED,
            RunStatus.RETRYING,
            RunStatus.RUNNING,
            RunStatus.QUEUED,
            RunStatus.WAITING,
            RunStatus.CANCELLED,
        )
        if day.get(status, 0) or status in (RunStatus.SUCCEEDED, RunStatus.NEEDS_REVIEW)
    ]
    filters = {
        key: value
        for key, value in (
            ("status", status_key if status_key != "all" else ""),
            ("flow", str(flow_id or "")),
            ("q", query),
            ("since", since_key),
        )
        if value
    }
    return render(
        request,
        "integrations/run_list.html",
        {
            "page": page,
            "tabs": tabs,
            "flows": Flow.objects.only("pk", "name").order_by("name"),
            "flow_id": flow_id,
            "query": query,
            "since_key": since_key,
            "periods": [(key, label) for key, (label, _) in PERIODS.items()],
            "live": any(run.is_active for run in page.object_list),
            "status_key": status_key,
            "filtered": bool(filters),
            "filter_query": urlencode(filters),
            "tab_query": urlencode({k: v for k, v in filters.items() if k != "status"}),
            "summary": summary,
            "day_total": sum(day.values()),
            "any_runs": bool(filters) or bool(total),
        },
    )


# --- One run ---------------------------------------------------------------------


@login_required
@permission_required("integrations.view_flowrun", raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        with_last_step(FlowRun.objects.all()).select_related(
            "flow__published_version",
            "version__author",
            "replay_of",
            "parent_run__flow",
            "started_by",
        ),
        pk=pk,
    )
    decorate(run)
    labels = step_labels(run.version)
    steps = list(run.steps.order_by("started_at", "pk"))
    for step in steps:
        step.label = labels.get(step.step_key, step.step_key)
        step.type_label = STEP_TYPE_LABELS.get(step.step_type, step.step_type)
        step.duration = seconds_text(step.duration_ms / 1000)
        step.input_text, step.input_cut = (
            pretty_json(step.input) if step.input is not None else ("", False)
        )
        step.output_text, step.output_cut = (
            pretty_json(step.output) if step.output is not None else ("", False)
        )
    transfers = list(
        Transfer.objects.filter(run=run)
        .prefetch_related("attempts")
        .order_by("created_at", "pk")
    )
    tasks = list(run.tasks.filter(status__in=PENDING_STATUSES).order_by("created_at"))
    replays = [decorate(r) for r in run.replays.order_by("created_at")]
    if run.replay_of:
        decorate(run.replay_of)
    user = request.user
    can_replay = run.status in REPLAYABLE and user.has_perm(
        "integrations.replay_flowrun"
    )
    latest = run.flow.published_version
    return render(
        request,
        "integrations/run_detail.html",
        {
            "run": run,
            "steps": steps,
            "transfers": transfers,
            "tasks": tasks,
            "replays": replays,
            "step_label": labels.get(_stopped_step_key(run, steps), ""),
            "can_replay": can_replay,
            "can_cancel": run.status in CANCELLABLE
            and user.has_perm("integrations.cancel_flowrun"),
            "can_decide": user.has_perm("integrations.change_reviewtask"),
            "latest_version": latest
            if latest is not None and latest.pk != run.version_id
            else None,
            "json_limit_kb": JSON_LIMIT // 1000,
        },
    )


def _stopped_step_key(run: FlowRun, steps: list[Any]) -> str:
    failed = [s for s in steps if s.status == "failed"]
    return failed[-1].step_key if failed else ""


# --- What a person can do about a run -------------------------------------------


@login_required
@permission_required("integrations.replay_flowrun", raise_exception=True)
@require_POST
def run_replay(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(FlowRun, pk=pk)
    from_step = "start" if request.POST.get("from_step") == "start" else "failed"
    version = "latest" if request.POST.get("version") == "latest" else "pinned"
    try:
        new_run = services.replay_run(
            run,
            request.user,
            from_step=from_step,
            version=version,
            comment=request.POST.get("comment", "").strip()[:2000],
        )
    except (PermanentError, PermissionDenied) as error:
        refused(request, error)
        return redirect("run-detail", pk=run.pk)
    messages.success(
        request,
        f"Run {run.pk} is being run again as run {new_run.pk}. "
        "This page shows how it goes.",
    )
    return redirect("run-detail", pk=new_run.pk)


@login_required
@permission_required("integrations.cancel_flowrun", raise_exception=True)
@require_POST
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(FlowRun, pk=pk)
    try:
        services.cancel_run(
            run, request.user, comment=request.POST.get("comment", "").strip()[:2000]
        )
    except (PermanentError, PermissionDenied) as error:
        refused(request, error)
    else:
        messages.success(
            request, f"Run {run.pk} was cancelled. It will not do anything more."
        )
    return redirect("run-detail", pk=run.pk)


@login_required
@permission_required("integrations.change_reviewtask", raise_exception=True)
@require_POST
def task_decide(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    task = get_object_or_404(ReviewTask, pk=task_pk, run_id=pk)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        messages.error(request, "Choose Approve or Reject.")
        return redirect("run-detail", pk=pk)
    comment = comment_of(request)
    # Through the review services: they check the reviewer's queue too.
    try:
        if decision == "approve":
            reviews.approve(task, request.user, comment=comment)
        else:
            reviews.reject(task, request.user, comment)
    except (reviews.TaskError, PermanentError, PermissionDenied) as error:
        refused(request, error)
    else:
        messages.success(
            request,
            "Approved: the run goes on."
            if decision == "approve"
            else "Rejected: the run stops here.",
        )
    return redirect("run-detail", pk=pk)
    try:
        services.decide_approval(
            task,
            request.user,
            approved=decision == "approve",
            comment=request.POST.get("comment", "").strip()[:2000],
        )
    except (PermanentError, PermissionDenied) as error:
        refused(request, error)
    else:
        messages.success(
            request,
            "Approved: the run goes on."
            if decision == "approve"
            else "Rejected: the run stops here.",
        )
    return redirect("run-detail", pk=pk)
