"""The reviewers' inbox: the tasks of my queues with their counts, filters,
sorting, and actions on several tasks at once.

Who sees which task is ``integrations.reviews``'s rule; this view reads the
user's queues once and builds every query from them, so PostgreSQL answers
each from the pending-tasks indexes (``bench/inbox_bench.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from integrations import reviews
from integrations.models import PENDING_STATUSES, Flow, ReviewTask, TaskKind
from integrations.views.common import back_to, comment_of, mark_due, refused

PAGE_SIZE = 50
VIEW = "integrations.view_reviewtask"
CHANGE = "integrations.change_reviewtask"

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
SYSTEMS_CACHE_KEY = "integrations:task-systems"
BULK_ACTIONS = {"claim": "Claim", "dismiss": "Dismiss", "approve": "Approve"}


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
    queues = reviews.queues_of(user)
    visible = reviews.tasks_in(queues)
    filtered, filters = _filtered(request, visible, now)
    active = {key: value for key, value in filters.items() if value}
    per_queue = reviews.counts_by_queue(user, visible)
    tab_keys = [key for key, *_ in TABS if key != "all" or queues is None]
    counted = _tab_counts(filtered, user, tab_keys, None if active else per_queue)
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
            "counts": _queue_rows(per_queue),
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


def _tab_counts(
    filtered: QuerySet[ReviewTask],
    user: Any,
    tab_keys: list[str],
    per_queue: dict[str, dict[str, int]] | None,
) -> dict[str, int]:
    """The number of tasks on each tab. Unfiltered, "My tasks" and "My
    queues" add up the per-queue counts (no second query); with filters one
    query counts every tab. Only the "All" tab counts finished tasks too."""
    if per_queue is not None:
        counted = {
            "mine": sum(numbers["mine"] for numbers in per_queue.values()),
            "queues": sum(numbers["open"] for numbers in per_queue.values()),
        }
        if "all" in tab_keys:
            counted["all"] = filtered.order_by().count()
        return counted
    counting = (
        filtered if "all" in tab_keys else filtered.filter(status__in=PENDING_STATUSES)
    )
    return counting.order_by().aggregate(
        **{key: Count("id", filter=_tab_filter(key, user)) for key in tab_keys}
    )


def _queue_rows(per_queue: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """The side card's rows: each queue with its open, overdue and my tasks."""
    return [
        {"queue": queue or "Unassigned queue", **numbers}
        for queue, numbers in sorted(per_queue.items(), key=lambda item: item[0])
    ]


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def inbox_counts(request: HttpRequest) -> HttpResponse:
    """The side card alone: the inbox refreshes it every 30 seconds (htmx)."""
    return render(
        request,
        "integrations/tasks/_counts.html",
        {"counts": _queue_rows(reviews.counts_by_queue(request.user))},
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
