"""The audit trail: append-only, hash-chained events, and verification runs."""

from __future__ import annotations

import pgtrigger
from django.db import models


class EventType(models.TextChoices):
    DOCUMENT_TRANSFERRED = "document.transferred", "Document transferred"
    DOCUMENT_ACCESSED = "document.accessed", "Document accessed"
    TRANSFER_FAILED = "transfer.failed", "Transfer failed"
    RUN_STARTED = "run.started", "Run started"
    RUN_REPLAYED = "run.replayed", "Run replayed"
    RUN_CANCELLED = "run.cancelled", "Run cancelled"
    TASK_OPENED = "task.opened", "Task opened"
    TASK_CLAIMED = "task.claimed", "Task claimed"
    TASK_RESOLVED = "task.resolved", "Task resolved"
    TASK_DISMISSED = "task.dismissed", "Task dismissed"
    APPROVAL_GRANTED = "approval.granted", "Approval granted"
    APPROVAL_REJECTED = "approval.rejected", "Approval rejected"
    WORKSPACE_CREATED = "workspace.created", "Workspace created"
    WORKSPACE_COMPLETED = "workspace.completed", "Workspace complete"
    METADATA_SYNCED = "workspace.metadata_synced", "Metadata synced"
    METADATA_CONFLICT = "workspace.metadata_conflict", "Metadata conflict"
    CONFLICT_RESOLVED = "workspace.conflict_resolved", "Metadata conflict resolved"
    HOLD_APPLIED = "records.hold_applied", "Legal hold applied"
    HOLD_RELEASED = "records.hold_released", "Legal hold released"
    CONFIG_CHANGED = "config.changed", "Configuration changed"
    EXPORT_MADE = "export.made", "Export made"
    LOGIN = "auth.login", "Signed in"
    LOGIN_FAILED = "auth.login_failed", "Sign-in failed"
    LOGOUT = "auth.logout", "Signed out"


class ActorType(models.TextChoices):
    USER = "user", "Person"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    """One thing that happened, chained to the event before it.

    Append-only: rows are inserted by ``audit.services.record`` and never
    changed. On PostgreSQL a trigger refuses UPDATE and DELETE. ``hash`` is
    SHA-256 over ``prev_hash`` and the canonical JSON of the event (see
    ``audit.canonical``), so changing any stored value, or removing or
    re-ordering events, breaks the chain at that sequence number.

    Subjects are plain values, not foreign keys: the trail must outlive the
    flows, runs and connections it speaks of, and must read the same after
    they are deleted.
    """

    sequence = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    request_id = models.CharField(max_length=64, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    flow_id = models.BigIntegerField(null=True, blank=True)
    run_id = models.BigIntegerField(null=True, blank=True)
    connection_id = models.BigIntegerField(null=True, blank=True)
    system = models.CharField(max_length=40, blank=True)
    business_object = models.CharField(max_length=200, blank=True)
    document_ref = models.CharField(max_length=500, blank=True)
    target_ref = models.CharField(max_length=500, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    document_size = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    # Not indexed: nothing looks an event up by its hash, and a unique index
    # of random values costs every append a random page. Verification, not a
    # constraint, is what proves the chain.
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-sequence"]
        permissions = [("export_auditevent", "Can export audit events and evidence")]
        # Every filter of the compliance search is paired with the sequence,
        # which orders events exactly as time does: a filtered page is one
        # index range read backwards, whatever the table size. Subjects most
        # events lack (a document, a flow, a business object) are indexed
        # only where present: smaller indexes, and an append of a sign-in or
        # a run event touches five indexes instead of twelve.
        indexes = [
            models.Index(fields=["event_type", "sequence"], name="audit_type_seq"),
            models.Index(fields=["actor_name", "sequence"], name="audit_actor_seq"),
            # A person's actions of one kind (e.g. every export by one user):
            # either single-column index alone would have to skip past all of
            # that person's other events, or all of that kind by others.
            models.Index(
                fields=["actor_name", "event_type", "sequence"],
                name="audit_actor_type_seq",
            ),
            models.Index(fields=["occurred_at", "sequence"], name="audit_time_seq"),
            *[
                models.Index(
                    fields=[field, "sequence"],
                    name=name,
                    condition=~models.Q(**{field: ""})
                    if kind == "text"
                    else models.Q(**{f"{field}__isnull": False}),
                )
                for field, name, kind in (
                    ("flow_id", "audit_flow_seq", "id"),
                    ("run_id", "audit_run_seq", "id"),
                    ("system", "audit_system_seq", "text"),
                    ("business_object", "audit_object_seq", "text"),
                    ("document_ref", "audit_doc_seq", "text"),
                    ("target_ref", "audit_target_seq", "text"),
                    ("document_sha256", "audit_sha_seq", "text"),
                )
            ],
        ]
        triggers = [
            pgtrigger.Protect(
                name="audit_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.get_event_type_display()}"


class ChainHead(models.Model):
    """The newest link of the chain: one row, locked by every append.

    Appenders take this row ``FOR UPDATE`` (PostgreSQL) or hold SQLite's
    write lock (IMMEDIATE transactions), so two writers can never both link
    to the same previous event.
    """

    sequence = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.sequence}"


class VerificationRun(models.Model):
    """One walk over (part of) the chain, and what it found.

    ``ok`` False names the first broken sequence number and why. The
    compliance pages show the latest run; ``/metrics`` exports it.
    """

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    full = models.BooleanField(default=False)
    first_sequence = models.BigIntegerField(default=0)
    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    events_verified = models.BigIntegerField(default=0)
    broken_sequence = models.BigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-finished_at"]

    def __str__(self) -> str:
        return f"verification {'ok' if self.ok else 'BROKEN'} at {self.finished_at}"
