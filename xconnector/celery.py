"""The Celery application.

Workers run flows; the broker only wakes them (the database holds the truth).
Queues: ``runs`` for flow steps, ``transfers`` for long document transfers,
``housekeeping`` for short periodic jobs such as the heartbeat and the sweeper,
so a 1 GB upload never delays the heartbeat.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xconnector.settings")

app = Celery("xconnector")
app.config_from_object("django.conf:settings", namespace="CELERY")
QUEUES = ("runs", "transfers", "housekeeping")
app.conf.task_queues = [
    Queue(name, Exchange(name), routing_key=name) for name in QUEUES
]
app.conf.task_routes = {
    "xconnector.tasks.*": {"queue": "housekeeping"},
    "audit.tasks.*": {"queue": "housekeeping"},
    "integrations.tasks.sweep_runs": {"queue": "housekeeping"},
    "integrations.tasks.*": {"queue": "runs"},
}
app.autodiscover_tasks()


def prepare_var_folders() -> None:
    """The embedded mode keeps its state under var/: make the folders it needs."""
    from django.conf import settings

    os.makedirs(settings.STATIC_ROOT, exist_ok=True)
    if settings.CELERY_BROKER_IS_FILESYSTEM:
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)


@worker_ready.connect
def _announce_worker(sender: object = None, **kwargs: object) -> None:
    from xconnector.health import record_heartbeat

    record_heartbeat(worker=str(getattr(sender, "hostname", "worker")))
