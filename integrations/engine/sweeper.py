"""The sweeper: nothing lives only in the broker, so nothing is lost with it.

Every ``XCONNECTOR_SWEEP_INTERVAL`` seconds (beat) it wakes:

- runs whose worker died (``running`` with an expired lease),
- runs due again (``retrying`` or ``waiting`` past ``next_attempt_at``,
  including waits too long to ride on the broker),
- queued runs nobody claimed within ``XCONNECTOR_REQUEUE_AFTER`` seconds
  (a lost or never-sent broker message).

Waking twice is harmless: only one claim can succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from integrations.engine.claims import wake
from integrations.engine.connections import forget_rate_windows
from integrations.models import FlowRun, RunStatus

BATCH = 500


@dataclass(frozen=True)
class Sweep:
    orphaned: int
    due: int
    requeued: int

    @property
    def woken(self) -> int:
        return self.orphaned + self.due + self.requeued


def sweep() -> Sweep:
    now = timezone.now()
    stale = now - timedelta(seconds=settings.XCONNECTOR_REQUEUE_AFTER)
    orphaned = list(
        FlowRun.objects.filter(status=RunStatus.RUNNING, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    due = list(
        FlowRun.objects.filter(
            status__in=(RunStatus.RETRYING, RunStatus.WAITING),
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    queued = list(
        FlowRun.objects.filter(status=RunStatus.QUEUED)
        .filter(Q(enqueued_at__lt=stale) | Q(enqueued_at__isnull=True))
        .order_by("created_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    # Woken runs count as enqueued now, so the next sweep leaves them be.
    FlowRun.objects.filter(pk__in=[*orphaned, *due, *queued]).update(enqueued_at=now)
    for run_id in [*orphaned, *due, *queued]:
        wake(run_id)
    forget_rate_windows()
    return Sweep(len(orphaned), len(due), len(queued))
