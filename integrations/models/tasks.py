"""Review tasks: a person has to look at a run (a failure or an approval)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q


class TaskKind(models.TextChoices):
    FAILED_TRANSFER = "failed_transfer", "Failed transfer"
    MISSING_DOCUMENT = "missing_document", "Missing document"
    INCOMPLETE_METADATA = "incomplete_metadata", "Incomplete metadata"
    APPROVAL = "approval", "Approval"
    PARTNER_EXCEPTION = "partner_exception", "Partner exception"
    RECONCILIATION = "reconciliation", "Reconciliation mismatch"
    METADATA_CONFLICT = "metadata_conflict", "Metadata conflict"


class TaskStatus(models.TextChoices):
    """Where a task is::

    open --claim--> claimed --unclaim--> open
    open / claimed --fixed, replayed, approved--> resolved
    open / claimed --approval rejected--> rejected
    open / claimed --nothing to do (with a reason)--> dismissed
    """

    OPEN = "open", "Open"
    CLAIMED = "claimed", "Claimed"
    RESOLVED = "resolved", "Resolved"
    REJECTED = "rejected", "Rejected"
    DISMISSED = "dismissed", "Dismissed"


PENDING_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)
# Tasks a reviewer decides (approve or reject) while their run waits; the
# others are fixed, retried or dismissed.
DECISION_KINDS = (TaskKind.APPROVAL, TaskKind.RECONCILIATION)


def sla_due(kind: str, now: datetime) -> datetime:
    """When a new task of ``kind`` is due (``XCONNECTOR_TASK_SLA_HOURS``)."""
    hours = settings.XCONNECTOR_TASK_SLA_HOURS
    return now + timedelta(hours=hours.get(kind, hours.get("default", 24)))


class Priority(models.IntegerChoices):
    HIGH = 1, "High"
    NORMAL = 2, "Normal"
    LOW = 3, "Low"


class ReviewTask(models.Model):
    """Work for a reviewer: something automation could not finish, in a run
    (``run`` and ``step_key``) or in a workspace's checklist (``workspace``
    and ``document_type``: a document missing, expired or to approve).

    ``queue`` names the reviewer group the task belongs to; reviewers see
    the tasks of their groups only. ``needed`` says what would fix it (the
    missing fields with their JSON Schema, the document type, the error);
    ``resolution`` keeps what the reviewer gave (values, the document's
    SHA-256, the decision). ``requested_by`` is whoever started the run an
    approval belongs to: they may not approve it themselves. At most one
    pending task per run and step.
    """

    kind = models.CharField(max_length=30, choices=TaskKind.choices)
    status = models.CharField(
        max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.NORMAL
    )
    run = models.ForeignKey(
        "integrations.FlowRun",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    # A workspace's checklist item (a missing, expired or unapproved
    # document) rather than a run's step.
    workspace = models.ForeignKey(
        "workspaces.Workspace",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    document_type = models.CharField(max_length=60, blank=True)
    step_key = models.CharField(max_length=60, blank=True)
    transfer = models.ForeignKey(
        "integrations.Transfer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    # Denormalised for the inbox's filters: the flow, the system and the
    # business object the task is about.
    flow = models.ForeignKey(
        "integrations.Flow",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    system = models.CharField(max_length=60, blank=True)
    business_object = models.CharField(max_length=300, blank=True)
    queue = models.CharField(max_length=150, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tasks",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    title = models.CharField(max_length=300)
    reason = models.TextField(blank=True)
    needed = models.JSONField(default=dict, blank=True)
    resolution = models.JSONField(default=dict, blank=True)
    decision = models.CharField(max_length=40, blank=True)
    comment = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["due_at", "priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "step_key"],
                condition=Q(status__in=["open", "claimed"]),
                name="one_pending_task_per_step",
            ),
            models.UniqueConstraint(
                fields=["workspace", "document_type"],
                condition=Q(status__in=["open", "claimed"], workspace__isnull=False),
                name="one_pending_task_per_checklist_item",
            ),
        ]
        indexes = [
            # The inbox's counts per queue (open, overdue, mine) read this
            # index alone: no visit to the table's rows.
            models.Index(
                fields=["queue", "due_at"],
                include=["assignee", "id"],
                condition=Q(status__in=["open", "claimed"]),
                name="task_pending_queue",
            ),
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee"),
            # Pending tasks read in order, so a page stops after 50 rows
            # instead of sorting every pending task of the queues.
            models.Index(
                fields=["due_at", "priority", "id"],
                condition=Q(status__in=["open", "claimed"]),
                name="task_pending_due",
            ),
            models.Index(
                fields=["priority", "due_at", "id"],
                condition=Q(status__in=["open", "claimed"]),
                name="task_pending_priority",
            ),
            # The dashboard's oldest pending task.
            models.Index(
                fields=["created_at", "id"],
                condition=Q(status__in=["open", "claimed"]),
                name="task_pending_oldest",
            ),
            # The admins' "All" tab: every task, finished ones too, in order.
            models.Index(fields=["due_at", "priority", "id"], name="task_due"),
            models.Index(fields=["priority", "due_at", "id"], name="task_priority"),
        ]
        # On PostgreSQL, migration 0002 adds trigram indexes on
        # UPPER(business_object) and UPPER(title) for the inbox's search
        # (``icontains``): not declared here, as SQLite has no such index.

    def __str__(self) -> str:
        return self.title

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES
