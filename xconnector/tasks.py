"""Housekeeping tasks of the platform itself."""

from __future__ import annotations

from celery import shared_task

from xconnector.health import record_heartbeat


@shared_task(name="xconnector.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Prove that beat, the broker and a worker work end to end."""
    from celery import current_task

    hostname = getattr(current_task.request, "hostname", None) if current_task else None
    record_heartbeat(worker=hostname)
