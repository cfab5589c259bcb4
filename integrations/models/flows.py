"""Flows and their immutable, numbered versions."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models


class FlowStatus(models.TextChoices):
    """Whether a flow's trigger starts runs.

    ::

        draft --publish + activate--> active --pause--> paused --activate--> active

    Only an active flow's trigger starts runs; manual runs need a published
    version but not an active flow. Pausing never stops runs already started.
    """

    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


def new_hook_token() -> str:
    return secrets.token_urlsafe(24)


class Flow(models.Model):
    """A trigger followed by steps, e.g. "File signed contracts into the
    account workspace". What runs is always a published ``FlowVersion``."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        max_length=20, choices=FlowStatus.choices, default=FlowStatus.DRAFT
    )
    published_version = models.ForeignKey(
        "FlowVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The version new runs use.",
    )
    max_concurrent_runs = models.PositiveIntegerField(
        default=10,
        help_text="At most this many of the flow's runs execute at the same time.",
    )
    # The unguessable part of the flow's own webhook address.
    hook_token = models.CharField(max_length=64, unique=True, default=new_hook_token)
    template_key = models.CharField(max_length=60, blank=True)
    # The designer's work in progress: saved as the admin edits (it may be
    # incomplete), published as a new version with a note. ``draft_history``
    # keeps the drafts before the last changes, for "Undo".
    draft = models.JSONField(null=True, blank=True)
    # The trigger data the designer previews and tests steps with.
    sample = models.JSONField(null=True, blank=True)
    draft_history = models.JSONField(default=list, blank=True)
    draft_updated_at = models.DateTimeField(null=True, blank=True)
    draft_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def audit_view(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "max_concurrent_runs": self.max_concurrent_runs,
            "published_version": (
                self.published_version.number if self.published_version else None
            ),
        }


class ImmutableVersionError(Exception):
    pass


class FlowVersion(models.Model):
    """A snapshot of a flow's trigger, steps and mappings; never changed.

    Runs are pinned to the version they started on, so editing a flow never
    changes what a run in progress does. ``definition`` is validated by
    ``integrations.definition.Definition`` when the version is published.
    """

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    connections = models.ManyToManyField(
        "connectors.Connection",
        through="FlowVersionConnection",
        related_name="flow_versions",
    )

    class Meta:
        ordering = ["flow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "number"], name="version_once")
        ]

    def __str__(self) -> str:
        return f"{self.flow} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableVersionError("A published flow version cannot change.")
        super().save(*args, **kwargs)


class FlowVersionConnection(models.Model):
    """The connections a version uses: a connection in use cannot be deleted."""

    version = models.ForeignKey(FlowVersion, on_delete=models.CASCADE)
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "connection"], name="version_connection_once"
            )
        ]

    def __str__(self) -> str:
        # What "cannot be deleted: used by …" names.
        return str(self.version)


class StepTest(models.Model):
    """A step tried in the designer with the sample data: what went in and
    what the system answered. Kept apart from runs: it moves no document,
    counts in no report, and only the latest few per step are kept."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="tests")
    step_key = models.CharField(max_length=60)
    ok = models.BooleanField()
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["flow", "step_key"], name="steptest_step")]

    def __str__(self) -> str:
        return f"test of {self.step_key} ({'ok' if self.ok else 'failed'})"
