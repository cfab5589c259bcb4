"""Trigger bookkeeping: poll cursors and per-connection rate windows."""

from __future__ import annotations

from django.db import models


class TriggerState(models.Model):
    """A flow's trigger between runs: the poll cursor and its last outcome.

    The cursor is saved in the same transaction as the runs its poll
    created, so a crash never skips or repeats events. ``polling_until`` is
    a lease: one poll of a flow at a time, even with several beat or
    worker processes.
    """

    flow = models.OneToOneField(
        "integrations.Flow", on_delete=models.CASCADE, related_name="trigger_state"
    )
    cursor = models.TextField(blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)
    polling_until = models.DateTimeField(null=True, blank=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"Trigger of {self.flow_id}"


class RateWindow(models.Model):
    """Calls made to one connection in one minute, for its rate limit."""

    connection_id = models.BigIntegerField()
    window_start = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection_id", "window_start"], name="rate_window_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.window_start:%H:%M}: {self.calls}"
