"""The Celery app is configured so that a crash never loses a task."""

from __future__ import annotations

from django.conf import settings

from xconnector.celery import app


def test_tasks_are_acknowledged_late_and_redelivered_if_the_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_only_json_travels_through_the_broker():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"


def test_time_limits_end_a_task_before_the_broker_would_redeliver_it():
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.task_time_limit < settings.CELERY_VISIBILITY_TIMEOUT


def test_each_queue_has_its_own_routing_so_housekeeping_never_waits():
    queues = {queue.name: queue.routing_key for queue in app.conf.task_queues}

    assert queues == {
        "runs": "runs",
        "transfers": "transfers",
        "housekeeping": "housekeeping",
    }
    assert app.amqp.router.route({}, "xconnector.tasks.heartbeat")["queue"].name == (
        "housekeeping"
    )


def test_beat_sends_the_heartbeat_to_the_housekeeping_queue():
    entry = app.conf.beat_schedule["worker-heartbeat"]

    assert entry["task"] == "xconnector.tasks.heartbeat"
    assert entry["options"]["queue"] == "housekeeping"
