"""Runs of a flow, the steps they took, and the document transfer ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RunStatus(models.TextChoices):
    """Where a run is. The database row is the truth; the broker only wakes.

    ::

        queued --claimed--> running --last step--> succeeded
        running --transient error--> retrying --due--> running
        running --wait or approval step--> waiting --due / approved--> running
        running --permanent error / retries exhausted--> needs_review
        waiting --approval rejected--> failed
        needs_review --replay--> replayed (a new run carries on)
        queued / retrying / waiting / running / needs_review --cancel--> cancelled
        running --lease expired (worker died)--> running again (next claim)
    """

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Waiting to retry"
    WAITING = "waiting", "Waiting"
    SUCCEEDED = "succeeded", "Succeeded"
    NEEDS_REVIEW = "needs_review", "Needs review"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    REPLAYED = "replayed", "Replayed"


ACTIVE_STATUSES = (
    RunStatus.QUEUED,
    RunStatus.RUNNING,
    RunStatus.RETRYING,
    RunStatus.WAITING,
)
FINAL_STATUSES = (
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.CANCELLED,
    RunStatus.REPLAYED,
)


class FlowRun(models.Model):
    """One execution of a flow version, from its trigger event to the end.

    ``attempt`` counts claims: a worker holds the run while
    ``lease_expires_at`` lies ahead, and every write it makes checks that
    ``attempt`` is still the one it claimed (a fencing token), so a worker
    that lost its lease cannot overwrite the one that took over.
    ``checkpoint`` is the index of the next step to execute; ``context``
    holds what earlier steps produced.
    """

    flow = models.ForeignKey(
        "integrations.Flow", on_delete=models.PROTECT, related_name="runs"
    )
    version = models.ForeignKey(
        "integrations.FlowVersion", on_delete=models.PROTECT, related_name="runs"
    )
    status = models.CharField(
        max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    trigger_kind = models.CharField(max_length=20)
    # The trigger event's id: one run per (flow, event id).
    event_id = models.CharField(max_length=300, blank=True)
    # The stable identity of what the run carries, kept across replays.
    source_ref = models.CharField(max_length=300, blank=True)
    # What the run is about (the flow's ``business_key`` on the trigger
    # data, e.g. "invoice:INV-1001"), for finding runs by business object.
    business_key = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    checkpoint = models.PositiveIntegerField(default=0)
    step_attempt = models.PositiveIntegerField(
        default=0, help_text="Failed attempts of the step at the checkpoint."
    )
    attempt = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    error_detail = models.TextField(blank=True)
    replay_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replays",
    )
    parent_run = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The run whose end started this one (flow-finished trigger).",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "event_id"],
                condition=~Q(event_id=""),
                name="run_per_event_once",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="run_due"),
            models.Index(fields=["flow", "status"], name="run_flow_status"),
            models.Index(fields=["business_key"], name="run_business_key"),
            # The run list's order, and the dashboard's runs per day by
            # status from the index alone (PostgreSQL; SQLite ignores include).
            models.Index(fields=["created_at"], include=["status"], name="run_created"),
        ]
        permissions = [
            ("replay_flowrun", "Can replay a run"),
            ("cancel_flowrun", "Can cancel a run"),
            ("start_flowrun", "Can start a run by hand"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.flow_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class StepStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    RETRYING = "retrying", "Failed, will retry"
    FAILED = "failed", "Failed"
    WAITING = "waiting", "Waiting"
    SKIPPED = "skipped", "Skipped"


class StepRun(models.Model):
    """One attempt at one step of a run: what went in, what came out."""

    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="steps")
    step_key = models.CharField(max_length=60)
    step_index = models.PositiveIntegerField()
    step_type = models.CharField(max_length=20)
    # The connector of the system the step talked to ("" for steps that
    # talk to none, such as a condition or an approval).
    system = models.CharField(max_length=40, blank=True)
    attempt = models.PositiveIntegerField(default=1)
    run_attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=StepStatus.choices)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_detail = models.TextField(blank=True)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        ordering = ["run", "started_at", "pk"]
        indexes = [models.Index(fields=["finished_at"], name="steprun_finished")]

    def __str__(self) -> str:
        return f"{self.step_key} #{self.attempt}"


class TransferStatus(models.TextChoices):
    PENDING = "pending", "In progress"
    DONE = "done", "Transferred"
    FAILED = "failed", "Failed"


class Transfer(models.Model):
    """One source document's move to its target: the no-duplicates ledger.

    Unique on (flow, source system, source id, source version): a retry, a
    replay or a repeated event finds this row instead of sending again, and
    the connector's idempotency key (``transfer-<pk>``) lets the target
    recognise an upload a crashed attempt already made.
    """

    flow = models.ForeignKey(
        "integrations.Flow", on_delete=models.PROTECT, related_name="transfers"
    )
    source_system = models.CharField(max_length=200)
    source_id = models.CharField(max_length=300)
    source_version = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=500, blank=True)
    media_type = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    target_system = models.CharField(max_length=200, blank=True)
    target_ref = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=20, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    run = models.ForeignKey(
        FlowRun, null=True, on_delete=models.SET_NULL, related_name="transfers"
    )
    step_key = models.CharField(max_length=60, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "source_system", "source_id", "source_version"],
                name="transfer_once",
            )
        ]
        # The dashboard's documents per day (xconnector/dashboard.py).
        indexes = [
            models.Index(
                fields=["completed_at"],
                include=["size"],
                name="transfer_done_at",
                condition=models.Q(status="done"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_system}:{self.source_id}@{self.source_version}"

    @property
    def idempotency_key(self) -> str:
        return f"xc-transfer-{self.pk}"


class AttemptOutcome(models.TextChoices):
    STARTED = "started", "Started"
    SUCCEEDED = "succeeded", "Succeeded"
    RETRYING = "retrying", "Failed, will retry"
    FAILED = "failed", "Failed"


class TransferAttempt(models.Model):
    """One try at sending a transfer's document, kept even when it fails."""

    transfer = models.ForeignKey(
        Transfer, on_delete=models.CASCADE, related_name="attempts"
    )
    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="+")
    run_attempt = models.PositiveIntegerField()
    outcome = models.CharField(
        max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.STARTED
    )
    error = models.TextField(blank=True)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["transfer", "started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.transfer} {self.outcome}"
