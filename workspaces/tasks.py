"""Celery tasks of the workspaces app (thin: they call the services)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="workspaces.tasks.follow_up_expired", ignore_result=True)
def follow_up_expired() -> int:
    """Daily: documents that expired open their checklist's tasks."""
    from workspaces.follow_up import follow_up_expired as follow

    return follow()
