"""Review tasks: a person has to look at a run (a failure or an approval)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class TaskKind(models.TextChoices):
    FAILED_RUN = "failed_run", "Failed run"
    APPROVAL = "approval", "Approval"


class TaskStatus(models.TextChoices):
    """::

    open --resolved (replayed, approved, rejected, fixed)--> resolved
    open --dismissed (nothing to do)--> dismissed
    """

    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


class ReviewTask(models.Model):
    """Work for a reviewer: a run stopped and needs a decision.

    ``queue`` names the reviewer group the task belongs to. At most one open
    task per run and step: a run that fails again after a replay opens a
    task on the new run.
    """

    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    status = models.CharField(
        max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    run = models.ForeignKey(
        "integrations.FlowRun", on_delete=models.CASCADE, related_name="tasks"
    )
    step_key = models.CharField(max_length=60, blank=True)
    queue = models.CharField(max_length=150, blank=True)
    title = models.CharField(max_length=300)
    reason = models.TextField(blank=True)
    decision = models.CharField(max_length=40, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "step_key"],
                condition=Q(status="open"),
                name="one_open_task_per_step",
            )
        ]

    def __str__(self) -> str:
        return self.title
