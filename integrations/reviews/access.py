"""Who sees which review task: integration admins every queue, reviewers the
queues named like their groups, nobody else any."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from integrations.models import PENDING_STATUSES, ReviewTask
from xconnector.roles import INTEGRATION_ADMIN


def queues_of(user: Any) -> list[str] | None:
    """The queues ``user`` works in; None for integration admins (all of them).

    One query. The names are read first (rather than joined into each task
    query as a subquery) so that PostgreSQL can use the inbox's indexes on
    ``queue``: an ``OR EXISTS (…)`` over memberships forces a scan of every
    task.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    names = list(user.groups.values_list("name", flat=True))
    return None if INTEGRATION_ADMIN in names else names


def is_admin(user: Any) -> bool:
    return queues_of(user) is None


def tasks_in(queues: list[str] | None) -> QuerySet[ReviewTask]:
    """The tasks of ``queues`` (None: of every queue), soonest due first."""
    tasks = ReviewTask.objects.select_related(
        "run", "flow", "assignee", "workspace"
    ).order_by("due_at", "priority", "pk")
    if queues is None:
        return tasks
    return tasks.filter(queue__in=queues) if queues else tasks.none()


def visible_tasks(user: Any) -> QuerySet[ReviewTask]:
    """The tasks ``user`` may see."""
    return tasks_in(queues_of(user))


def get_visible_task(user: Any, pk: int) -> ReviewTask:
    """The task, or ``Http404`` when ``user`` may not see it."""
    try:
        return visible_tasks(user).get(pk=pk)
    except (ReviewTask.DoesNotExist, ValueError, TypeError):
        raise Http404("No such task.") from None


def can_see(user: Any, task: ReviewTask) -> bool:
    queues = queues_of(user)
    return queues is None or task.queue in queues


def counts_by_queue(
    user: Any, visible: QuerySet[ReviewTask] | None = None
) -> dict[str, dict[str, int]]:
    """{queue: {"open", "overdue", "mine"}} of the pending tasks ``user``
    sees (``visible``, when the caller has them already). One query,
    answered from the pending-tasks index by queue.
    """
    now = timezone.now()
    rows = (
        (visible_tasks(user) if visible is None else visible)
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
