"""Who executes a run: claims, leases, fencing, and waking workers.

A worker claims a run with one conditional UPDATE that also bumps
``attempt``; the new value is its fencing token. Every later write checks
the token and ``status = running`` (``fenced``), so after a lease expired
and another worker took the run over, the first one's writes change
nothing and it stops. While a step works (a long upload, say), a
``LeaseKeeper`` thread renews the lease.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.models import Flow, FlowRun, RunStatus

logger = logging.getLogger(__name__)


class LostLease(Exception):
    """Another worker took the run over, or it was cancelled: stop quietly."""


def lease() -> timedelta:
    return timedelta(seconds=settings.XCONNECTOR_RUN_LEASE_SECONDS)


def claimable(now: Any) -> Q:
    """Runs a worker may take now."""
    return (
        Q(status=RunStatus.QUEUED)
        | Q(
            status__in=(RunStatus.RETRYING, RunStatus.WAITING), next_attempt_at__lte=now
        )
        | Q(status=RunStatus.RUNNING, lease_expires_at__lt=now)
    )


class Busy(Exception):
    """The flow already runs as many runs as it may; try again shortly."""


RUN = FlowRun._meta.db_table
FLOW = Flow._meta.db_table

# Lock the run's flow: claims of one flow take turns, so two workers cannot
# both take its last free slot. (SQLite has no FOR UPDATE; its writers take
# turns anyway: transactions start IMMEDIATE, see settings.)
_LOCK_FLOW = f"""
SELECT 1 FROM {FLOW} WHERE id = (SELECT flow_id FROM {RUN} WHERE id = %s) FOR UPDATE
"""  # noqa: S608 - table names come from the models; values are bound
# Take the run if it is claimable and its flow has a free slot; the new
# attempt number is the fencing token.
_CLAIM = f"""
UPDATE {RUN} SET status = 'running', attempt = attempt + 1,
    lease_expires_at = %(lease)s, next_attempt_at = NULL, worker = %(worker)s,
    started_at = COALESCE(started_at, %(now)s)
WHERE id = %(run)s
  AND (status = 'queued'
       OR (status IN ('retrying', 'waiting') AND next_attempt_at <= %(now)s)
       OR (status = 'running' AND lease_expires_at < %(now)s))
  AND (SELECT COUNT(*) FROM {RUN} AS other
       WHERE other.flow_id = {RUN}.flow_id AND other.status = 'running'
         AND other.lease_expires_at >= %(now)s AND other.id <> %(run)s)
      < (SELECT max_concurrent_runs FROM {FLOW} WHERE id = {RUN}.flow_id)
RETURNING attempt
"""  # noqa: S608 - table names come from the models; values are bound


def claim(run_id: int, worker: str) -> int | None:
    """Take the run; return the fencing token, or None if it is not claimable.

    Raises ``Busy`` when the flow is at its concurrency limit. Two
    statements on the common path: lock the flow, claim with RETURNING.
    """
    now = timezone.now()
    stored = db_connection.ops.adapt_datetimefield_value  # as the ORM writes it
    values = {
        "run": run_id,
        "now": stored(now),
        "lease": stored(now + lease()),
        "worker": worker[:200],
    }
    with transaction.atomic(), db_connection.cursor() as cursor:
        if db_connection.vendor != "sqlite":
            cursor.execute(_LOCK_FLOW, [run_id])
        cursor.execute(_CLAIM, values)
        row = cursor.fetchone()
        if row is not None:
            return row[0]
    if FlowRun.objects.filter(claimable(now), pk=run_id).exists():
        raise Busy  # claimable, so the flow had no free slot
    return None


def fenced(run_id: int, token: int) -> QuerySet[FlowRun]:
    """The run, only while this worker still holds it."""
    return FlowRun.objects.filter(pk=run_id, attempt=token, status=RunStatus.RUNNING)


class LeaseKeeper:
    """Keeps a run's lease while its worker is busy with it.

    One renewer thread per worker process serves every run the process
    holds, with one database connection: a run costs no thread and no
    connection of its own. A run whose renewal finds it taken over (or
    cancelled) is marked ``lost``.
    """

    def __init__(self, run_id: int, token: int) -> None:
        self.run_id = run_id
        self.token = token
        self.lost = threading.Event()

    def __enter__(self) -> LeaseKeeper:
        _renewer.hold(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _renewer.release(self)


class _Renewer:
    def __init__(self) -> None:
        self._held: dict[int, LeaseKeeper] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def hold(self, keeper: LeaseKeeper) -> None:
        with self._lock:
            self._held[keeper.run_id] = keeper
            if (
                self._thread is None
                or not self._thread.is_alive()
                or (
                    self._pid != os.getpid()  # a forked pool child starts its own
                )
            ):
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._renew, name="lease-renewer", daemon=True
                )
                self._thread.start()

    def release(self, keeper: LeaseKeeper) -> None:
        with self._lock:
            if self._held.get(keeper.run_id) is keeper:
                del self._held[keeper.run_id]

    def _renew(self) -> None:
        every = max(settings.XCONNECTOR_RUN_LEASE_SECONDS / 3, 0.5)
        while True:
            time.sleep(every)
            with self._lock:
                held = list(self._held.values())
            try:
                for keeper in held:
                    renewed = fenced(keeper.run_id, keeper.token).update(
                        lease_expires_at=timezone.now() + lease()
                    )
                    if not renewed:
                        keeper.lost.set()
            except Exception:  # the database went away: the leases lapse
                logger.exception("could not renew the leases of %s runs", len(held))
                db_connection.close()


_renewer = _Renewer()


def enqueue(run_id: int, *, delay: float = 0.0) -> None:
    """Wake a worker for the run once the current transaction commits.

    A failure to reach the broker is logged, not raised: the run is safe in
    the database and the sweeper wakes it later.
    """
    transaction.on_commit(lambda: wake(run_id, delay=delay))


def wake(run_id: int, *, delay: float = 0.0) -> None:
    from integrations.tasks import execute_run

    options: dict[str, Any] = {"queue": settings.XCONNECTOR_RUN_QUEUE}
    if delay > 0:
        options["countdown"] = delay
    try:
        execute_run.apply_async((run_id,), **options)
    except Exception:
        logger.exception("could not enqueue run %s; the sweeper will", run_id)


def busy_delay() -> float:
    """How long to wait before trying a run of a flow at its limit again."""
    return 1.0 + random.random() * 2  # noqa: S311 - jitter, not security
