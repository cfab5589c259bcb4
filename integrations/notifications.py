"""E-mail to reviewers: a new task in their queue, and a daily digest of the
tasks that are overdue.

Recipients are the active users of the group the queue is named after who
have an e-mail address. Mail goes through Django's ``send_mail``, so
``settings.EMAIL_BACKEND`` decides how it leaves. A mail that cannot be sent
is logged; it never stops the run or the change that opened the task.

Whoever opens a task calls ``task_opened`` (the flow engine and the webhook
intake do); the e-mail leaves once the task's transaction commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from integrations.models import PENDING_STATUSES, ReviewTask

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "[xConnector] "


def recipients(queue: str) -> list[str]:
    """The addresses of the active members of the queue's group."""
    if not queue:
        return []
    addresses = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=queue)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    return list(addresses)


def task_opened(task: ReviewTask) -> None:
    """Mail the task's queue about it once the current transaction commits
    (nothing is sent for a task whose transaction rolls back)."""
    task_id = task.pk
    transaction.on_commit(lambda: notify_task_opened(task_id))


def notify_task_opened(task_id: int) -> int:
    """Tell the task's queue about it; the number of e-mails sent."""
    task = ReviewTask.objects.select_related("flow").filter(pk=task_id).first()
    if task is None or not task.is_pending:
        return 0
    addresses = recipients(task.queue)
    if not addresses:
        return 0
    subject = f"{SUBJECT_PREFIX}New task in {task.queue}: {task.title}"
    lines = [
        f"A new task waits in the queue “{task.queue}”.",
        "",
        f"Task {task.pk}: {task.title}",
        f"Kind: {task.get_kind_display()}",
        f"Priority: {task.get_priority_display()}",
    ]
    if task.due_at:
        lines.append(f"Due: {_when(task.due_at)}")
    if task.business_object:
        lines.append(f"About: {task.business_object}")
    if task.reason:
        lines += ["", task.reason]
    lines += ["", f"Open it: {task_link(task.pk)}"]
    return _send(subject, "\n".join(lines), addresses)


def send_overdue_digest() -> int:
    """One e-mail per queue listing its overdue pending tasks, to the queue's
    members; the number of e-mails sent."""
    now = timezone.now()
    overdue = ReviewTask.objects.filter(
        status__in=PENDING_STATUSES, due_at__lt=now
    ).order_by("queue", "due_at", "priority", "pk")
    by_queue: dict[str, list[ReviewTask]] = defaultdict(list)
    for task in overdue.select_related("assignee"):
        by_queue[task.queue].append(task)
    sent = 0
    for queue, tasks in by_queue.items():
        addresses = recipients(queue)
        if not addresses:
            logger.warning(
                "%s overdue tasks in queue %r, but nobody to tell", len(tasks), queue
            )
            continue
        count = len(tasks)
        subject = (
            f"{SUBJECT_PREFIX}{count} overdue task{'s' if count != 1 else ''} "
            f"in {queue}"
        )
        lines = [f"These tasks in the queue “{queue}” are past their due time:", ""]
        for task in tasks:
            who = (
                f", claimed by {task.assignee.get_username()}"
                if task.assignee
                else ", not claimed"
            )
            lines.append(
                f"- Task {task.pk}: {task.title} (due {_when(task.due_at)}{who})"
            )
            lines.append(f"  {task_link(task.pk)}")
        sent += _send(subject, "\n".join(lines), addresses)
    return sent


def task_link(task_id: int) -> str:
    base = getattr(settings, "XCONNECTOR_BASE_URL", "") or ""
    return f"{base.rstrip('/')}/tasks/{task_id}/"


def _when(moment: Any) -> str:
    return f"{timezone.localtime(moment):%d %b %Y %H:%M %Z}"


def _send(subject: str, body: str, addresses: list[str]) -> int:
    """One e-mail per recipient (nobody sees the others' addresses)."""
    sent = 0
    for address in addresses:
        try:
            sent += send_mail(
                subject[:200],
                body,
                None,  # DEFAULT_FROM_EMAIL
                [address],
                fail_silently=False,
            )
        except Exception:
            logger.exception("could not e-mail %s about %r", address, subject)
    return sent
