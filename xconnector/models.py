"""Platform models: the worker heartbeat that /healthz and the dashboard read."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last sign of life of one Celery worker, by host name.

    A worker writes it when it starts and then on every ``heartbeat`` task
    (beat sends one every ``XCONNECTOR_HEARTBEAT_INTERVAL`` seconds on the
    housekeeping queue), so a fresh row proves that beat, the broker and a
    worker all work end to end.
    """

    worker = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()
    beats = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.worker} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
