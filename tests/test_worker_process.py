"""A real Celery worker, as a separate process, runs a task against our database.

The broker is Redis when ``CELERY_BROKER_URL`` points at it (CI) and the
filesystem transport otherwise. The task goes to a queue of its own, so a
``make run`` worker on the same machine cannot take it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.workers import database_url_for_test_database
from xconnector.models import WorkerHeartbeat
from xconnector.tasks import heartbeat

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_queue():
    """Start ``celery worker`` on a private queue; stop it afterwards."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = dict(os.environ, DATABASE_URL=database_url_for_test_database())
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "xconnector",
            "worker",
            "--queues",
            queue,
            "--hostname",
            f"{queue}@%h",
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_process_runs_a_task_and_its_effect_lands_in_the_database(worker_queue):
    queue, process = worker_queue
    assert not WorkerHeartbeat.objects.filter(worker__startswith=queue).exists()

    heartbeat.apply_async(queue=queue)

    # Two beats: one when the worker became ready, one for the task it ran.
    deadline = time.monotonic() + 60
    beats = 0
    while time.monotonic() < deadline and beats < 2:
        assert process.poll() is None, process.stdout.read()
        row = WorkerHeartbeat.objects.filter(worker__startswith=f"{queue}@").first()
        beats = row.beats if row else 0
        time.sleep(0.2)
    assert beats == 2, "the worker did not run the task within 60 seconds"
