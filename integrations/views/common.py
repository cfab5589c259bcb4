"""What the run and task pages share: refusals as messages, the page to go
back to, posted comments, and due dates in words."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from integrations.models import ReviewTask

COMMENT_LIMIT = 2000


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
    """A duration in the largest unit that reads well ("3 hours", "2 days")."""
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
    """Set ``due_label`` and ``overdue`` on ``task`` for the templates."""
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
    """A refusal of the services, in the words they chose: our own refusals
    (``PermissionDenied`` included, e.g. separation of duties) say why."""
    if isinstance(error, PermissionDenied):
        messages.error(request, str(error) or "You are not allowed to do that.")
    else:
        messages.error(request, getattr(error, "message", "") or str(error))


def comment_of(request: HttpRequest, name: str = "comment") -> str:
    """A comment or reason from the posted form, trimmed and cut to size."""
    return request.POST.get(name, "").strip()[:COMMENT_LIMIT]
