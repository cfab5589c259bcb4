"""Health of the platform: database, broker and workers.

Used by ``/healthz`` (for load balancers and ``make run``), by ``/metrics`` and
by the dashboard. Each check is cheap and bounded by a short timeout.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from xconnector.models import WorkerHeartbeat


@dataclass(frozen=True)
class Check:
    """The outcome of one check, in words an operator can act on."""

    ok: bool
    detail: str
    latency_ms: float | None = None


@dataclass(frozen=True)
class WorkerStatus:
    ok: bool
    detail: str
    last_heartbeat: datetime | None
    age_seconds: float | None
    workers: int


def record_heartbeat(worker: str | None = None) -> WorkerHeartbeat:
    """Note that ``worker`` (this host by default) is alive now."""
    name = worker or f"celery@{socket.gethostname()}:{os.getpid()}"
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker=name).update(
        seen_at=now, beats=F("beats") + 1
    )
    if not updated:
        WorkerHeartbeat.objects.get_or_create(
            worker=name, defaults={"seen_at": now, "beats": 1}
        )
    return WorkerHeartbeat.objects.get(worker=name)


def check_database() -> Check:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return Check(False, f"The database does not answer: {exc.__class__.__name__}.")
    name = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}.get(
        connection.vendor, connection.vendor
    )
    return Check(True, f"{name} answers", _ms_since(started))


def check_broker() -> Check:
    from xconnector.celery import app

    started = time.perf_counter()
    if settings.CELERY_BROKER_IS_FILESYSTEM:
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"]
        if os.path.isdir(folder) and os.access(folder, os.W_OK):
            return Check(True, "The queue folder is writable", _ms_since(started))
        return Check(False, f"The queue folder {folder} is missing or read-only.")
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return Check(
            False, f"The message broker does not answer: {exc.__class__.__name__}."
        )
    scheme = app.conf.broker_url.split(":", 1)[0]
    name = {"redis": "Redis", "rediss": "Redis"}.get(scheme, scheme)
    return Check(True, f"{name} answers", _ms_since(started))


def worker_status(now: datetime | None = None) -> WorkerStatus:
    now = now or timezone.now()
    # Three missed beats in a row: the worker is down or the queue is stuck.
    stale_after = timedelta(seconds=3 * settings.XCONNECTOR_HEARTBEAT_INTERVAL)
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return WorkerStatus(False, "No worker has reported yet.", None, None, 0)
    alive = WorkerHeartbeat.objects.filter(seen_at__gte=now - stale_after).count()
    age = (now - latest.seen_at).total_seconds()
    if alive == 0:
        detail = f"No worker has reported for {_duration(age)}."
        return WorkerStatus(False, detail, latest.seen_at, age, 0)
    detail = f"{alive} worker{'s' if alive != 1 else ''} reporting"
    return WorkerStatus(True, detail, latest.seen_at, age, alive)


def snapshot() -> dict[str, object]:
    """Everything /healthz reports, as JSON-ready data."""
    database = check_database()
    broker = check_broker()
    workers = worker_status() if database.ok else None
    status = "ok"
    if not (database.ok and broker.ok):
        status = "down"
    elif workers is None or not workers.ok:
        status = "degraded"
    worker_data: dict[str, object] = {"ok": False, "detail": "Unknown: no database."}
    if workers is not None:
        worker_data = asdict(workers)
        worker_data["last_heartbeat"] = (
            workers.last_heartbeat.isoformat() if workers.last_heartbeat else None
        )
    return {
        "status": status,
        "database": asdict(database),
        "broker": asdict(broker),
        "worker": worker_data,
    }


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} seconds"
    if seconds < 7200:
        return f"{int(seconds // 60)} minutes"
    return f"{int(seconds // 3600)} hours"
