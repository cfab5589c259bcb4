"""The dashboard's figures, each in one or two queries, and the geometry of
its charts (drawn as SVG on the server: no script, nothing loaded from
outside).

- runs per day by outcome, the last 14 days;
- documents moved per day, the last 14 days, and their volume;
- the share of failed attempts per system, the last 7 days;
- open tasks per queue (overdue ones apart), and the oldest one;
- the audit trail's last verification.

Every figure filters on an indexed time column, so the cost follows the
window, not the size of the tables; the runs of the days before today are
kept for five minutes (bench/pages_bench.py: 133,000 runs in the window).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from connectors import registry
from integrations.models import (
    FlowRun,
    ReviewTask,
    RunStatus,
    StepRun,
    StepStatus,
    Transfer,
    TransferStatus,
)
from integrations.models.tasks import PENDING_STATUSES

DAYS = 14
FAILURE_DAYS = 7
# Outcomes drawn in the runs chart, bottom to top: (key, label, statuses).
OUTCOMES = [
    ("succeeded", "Succeeded", (RunStatus.SUCCEEDED,)),
    ("attention", "Need attention", (RunStatus.NEEDS_REVIEW, RunStatus.FAILED)),
    (
        "going",
        "In progress or waiting",
        (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.RETRYING, RunStatus.WAITING),
    ),
    ("other", "Cancelled or replayed", (RunStatus.CANCELLED, RunStatus.REPLAYED)),
]
CHART_HEIGHT = 120  # the SVG's drawing height; bars scale to the largest day
EARLIER_DAYS_TTL = 300  # seconds the runs of the days before today are kept


@dataclass
class Segment:
    key: str
    label: str
    count: int
    y: float
    height: float


@dataclass
class Day:
    day: date
    total: int
    segments: list[Segment]
    x: float

    @property
    def label(self) -> str:
        return f"{self.day:%a %d %b}"

    @property
    def short(self) -> str:
        return f"{self.day:%d}"


def _days(now: datetime) -> list[date]:
    today = timezone.localdate(now)
    return [today - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]


def _start(now: datetime, days: int) -> datetime:
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    return timezone.make_aware(datetime.combine(first, datetime.min.time()))


def _run_counts(start: datetime, end: datetime | None) -> list[tuple[date, str, int]]:
    """(day, status, runs) created from ``start`` until ``end`` (one query)."""
    runs = FlowRun.objects.filter(created_at__gte=start)
    if end is not None:
        runs = runs.filter(created_at__lt=end)
    rows = (
        runs.annotate(
            day=TruncDate("created_at", tzinfo=timezone.get_current_timezone())
        )
        .values("day", "status")
        .annotate(n=Count("*"))  # not COUNT(id): the index holds no id
        .order_by()
    )
    return [(row["day"], row["status"], row["n"]) for row in rows]


def runs_per_day(now: datetime) -> dict[str, Any]:
    """Stacked bars: each day's runs by outcome. Today is counted on every
    view; the 13 days before change only when an older run ends late or is
    decided, so their counts are kept ``EARLIER_DAYS_TTL`` seconds (with a
    million runs they are most of the work)."""
    today = _start(now, 1)
    key = f"dashboard:runs:{timezone.get_current_timezone_name()}:{today.date()}"
    earlier = cache.get(key)
    if earlier is None:
        earlier = _run_counts(_start(now, DAYS), today)
        cache.set(key, earlier, EARLIER_DAYS_TTL)
    rows = [*earlier, *_run_counts(today, None)]
    counts: dict[tuple[date, str], int] = {}
    outcome_of = {s: key for key, _, statuses in OUTCOMES for s in statuses}
    for day, status, n in rows:
        key = (day, outcome_of.get(status, "other"))
        counts[key] = counts.get(key, 0) + n
    days = _days(now)
    totals = {d: sum(counts.get((d, k), 0) for k, _, _ in OUTCOMES) for d in days}
    top = max(totals.values(), default=0) or 1
    width = 100 / DAYS
    bars = []
    for index, day in enumerate(days):
        bottom = float(CHART_HEIGHT)
        segments = []
        for key, label, _ in OUTCOMES:
            count = counts.get((day, key), 0)
            height = CHART_HEIGHT * count / top
            bottom -= height
            segments.append(
                Segment(key, label, count, round(bottom, 2), round(height, 2))
            )
        bars.append(Day(day, totals[day], segments, round(index * width, 2)))
    totals_by_outcome = {
        key: sum(counts.get((d, key), 0) for d in days) for key, _, _ in OUTCOMES
    }
    return {
        "days": bars,
        "bar_width": round(width * 0.7, 2),
        "top": top,
        "total": sum(totals.values()),
        "legend": [(key, label, totals_by_outcome[key]) for key, label, _ in OUTCOMES],
    }


def documents_per_day(now: datetime) -> dict[str, Any]:
    """Columns: documents moved per day, and their total volume (one query)."""
    rows = (
        Transfer.objects.filter(
            status=TransferStatus.DONE, completed_at__gte=_start(now, DAYS)
        )
        .annotate(day=TruncDate("completed_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"), size=Sum("size"))
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    days = _days(now)
    top = max((by_day[d]["n"] for d in days if d in by_day), default=0) or 1
    width = 100 / DAYS
    columns = []
    for index, day in enumerate(days):
        count = by_day[day]["n"] if day in by_day else 0
        height = round(CHART_HEIGHT * count / top, 2)
        columns.append(
            {
                "day": day,
                "label": f"{day:%a %d %b}",
                "short": f"{day:%d}",
                "count": count,
                "x": round(index * width, 2),
                "y": round(CHART_HEIGHT - height, 2),
                "height": height,
            }
        )
    return {
        "days": columns,
        "bar_width": round(width * 0.7, 2),
        "total": sum(c["count"] for c in columns),
        "bytes": sum(int(row["size"] or 0) for row in by_day.values()),
    }


def failures_per_system(now: datetime) -> list[dict[str, Any]]:
    """The share of step attempts that failed, per system (one query)."""
    rows = (
        StepRun.objects.filter(finished_at__gte=now - timedelta(days=FAILURE_DAYS))
        .exclude(system="")
        .values("system")
        .annotate(
            total=Count("id"),
            failed=Count(
                "id", filter=Q(status__in=(StepStatus.FAILED, StepStatus.RETRYING))
            ),
        )
        .order_by()
    )
    labels = {key: cls.label for key, cls in registry.connectors().items()}
    result = []
    for row in rows:
        rate = row["failed"] / row["total"] if row["total"] else 0.0
        result.append(
            {
                "system": labels.get(row["system"], row["system"]),
                "total": row["total"],
                "failed": row["failed"],
                "percent": round(rate * 100, 1),
                "width": max(round(rate * 100, 1), 0.5 if row["failed"] else 0),
            }
        )
    return sorted(result, key=lambda item: (-item["percent"], item["system"]))


def tasks_per_queue(now: datetime) -> dict[str, Any]:
    """Open tasks per queue with the overdue ones (one query), and the
    oldest open task (one query)."""
    rows = (
        ReviewTask.objects.filter(status__in=PENDING_STATUSES)
        .values("queue")
        .annotate(n=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    )
    queues = sorted(
        ({"queue": r["queue"], "open": r["n"], "overdue": r["overdue"]} for r in rows),
        key=lambda item: (-item["open"], item["queue"]),
    )
    top = max((q["open"] for q in queues), default=0) or 1
    for queue in queues:
        queue["width"] = round(100 * queue["open"] / top, 1)
        queue["overdue_width"] = round(100 * queue["overdue"] / top, 1)
    oldest = (
        ReviewTask.objects.filter(status__in=PENDING_STATUSES)
        .only("pk", "title", "queue", "created_at", "business_object")
        .order_by("created_at", "pk")
        .first()
    )
    return {
        "queues": queues,
        "open": sum(q["open"] for q in queues),
        "overdue": sum(q["overdue"] for q in queues),
        "oldest": oldest,
    }


def last_verification() -> Any:
    from audit.models import VerificationRun

    return VerificationRun.objects.order_by("-finished_at").first()
