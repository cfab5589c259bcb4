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
import random
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
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


def claim(run_id: int, worker: str) -> int | None:
    """Take the run; return the fencing token, or None if it is not claimable.

    Raises ``Busy`` when the flow is at its concurrency limit. The flow row
    is locked while counting, so two workers cannot both take the last slot.
    """
    now = timezone.now()
    with transaction.atomic():
        row = FlowRun.objects.filter(claimable(now), pk=run_id).values("flow_id")
        flow_id = next(iter(row), {}).get("flow_id")
        if flow_id is None:
            return None
        limit = (
            Flow.objects.select_for_update()
            .values_list("max_concurrent_runs", flat=True)
            .get(pk=flow_id)
        )
        running = (
            FlowRun.objects.filter(
                flow_id=flow_id, status=RunStatus.RUNNING, lease_expires_at__gte=now
            )
            .exclude(pk=run_id)
            .count()
        )
        if running >= limit:
            raise Busy
        taken = FlowRun.objects.filter(claimable(now), pk=run_id).update(
            status=RunStatus.RUNNING,
            attempt=F("attempt") + 1,
            lease_expires_at=now + lease(),
            next_attempt_at=None,
            worker=worker[:200],
            started_at=Coalesce("started_at", now),
        )
        if not taken:
            return None
        return FlowRun.objects.values_list("attempt", flat=True).get(pk=run_id)


def fenced(run_id: int, token: int) -> QuerySet[FlowRun]:
    """The run, only while this worker still holds it."""
    return FlowRun.objects.filter(pk=run_id, attempt=token, status=RunStatus.RUNNING)


class LeaseKeeper:
    """Renews a run's lease in the background while its worker is busy."""

    def __init__(self, run_id: int, token: int) -> None:
        self.run_id = run_id
        self.token = token
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._renew, name=f"lease-{run_id}", daemon=True
        )

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _renew(self) -> None:
        every = max(settings.XCONNECTOR_RUN_LEASE_SECONDS / 3, 0.5)
        try:
            while not self._stop.wait(every):
                renewed = fenced(self.run_id, self.token).update(
                    lease_expires_at=timezone.now() + lease()
                )
                if not renewed:
                    self.lost.set()
                    return
        except Exception:  # the database went away: the lease simply lapses
            logger.exception("could not renew the lease of run %s", self.run_id)
        finally:
            db_connection.close()


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
