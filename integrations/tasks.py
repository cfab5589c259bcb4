"""Celery tasks: thin wrappers that take ids; the work is in the engine."""

from __future__ import annotations

import logging

from celery import Task, shared_task

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="integrations.tasks.execute_run", ignore_result=True)
def execute_run(self: Task, run_id: int) -> str:
    from integrations.engine.runner import execute_run as execute

    # The worker's node name (queue@host) shows on the run: who holds it.
    return execute(run_id, worker=self.request.hostname or "")


@shared_task(name="integrations.tasks.sweep_runs", ignore_result=True)
def sweep_runs() -> int:
    from integrations.engine.sweeper import sweep

    result = sweep()
    if result.woken:
        logger.info(
            "sweeper woke %s runs (%s orphaned, %s due, %s requeued)",
            result.woken,
            result.orphaned,
            result.due,
            result.requeued,
        )
    return result.woken


@shared_task(name="integrations.tasks.poll_trigger", ignore_result=True)
def poll_trigger(flow_id: int) -> int:
    from integrations.triggers import poll

    return poll(flow_id)


@shared_task(name="integrations.tasks.fire_schedule", ignore_result=True)
def fire_schedule(flow_id: int) -> int | None:
    from integrations.triggers import fire_schedule as fire

    run = fire(flow_id)
    return run.pk if run else None


@shared_task(name="integrations.tasks.send_overdue_digest", ignore_result=True)
def send_overdue_digest() -> int:
    from integrations.notifications import send_overdue_digest as send

    return send()


@shared_task(name="integrations.tasks.demo_tick", ignore_result=True)
def demo_tick() -> str:
    """The living demo: the emulated systems produce one more event."""
    from integrations import demo_events

    return demo_events.tick()
