"""Counts and pages that stay cheap on big tables.

A list page shows how many rows each tab holds and which page is shown.
Counting a million runs exactly makes PostgreSQL read all of them on every
page view, yet above a few thousand nobody needs the exact figure. So
``count_of`` counts at most ``EXACT_UP_TO + 1`` rows; beyond, it asks
PostgreSQL's planner for its estimate of the filtered query (kept from the
table's statistics, no rows read) and says "about 1.2 million". On another
database it says "more than 10,000".

``ListPage`` pages without a count: it reads one row more than a page to
know whether an older page follows, so "Older runs" never hides rows when
an estimate is low.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import connections
from django.db.models import QuerySet

EXACT_UP_TO = 10_000


@dataclass(frozen=True)
class Count:
    """How many rows: exact, or more than were counted (``value`` is then
    the planner's estimate when ``estimated``, else what was counted)."""

    value: int
    exact: bool = True
    estimated: bool = False

    def __str__(self) -> str:
        if self.exact:
            return intcomma(self.value)
        if not self.estimated:
            return f"more than {intcomma(self.value - 1)}"
        if self.value >= 1_000_000:
            return f"about {self.value / 1_000_000:.1f} million"
        if self.value >= 10_000:
            return f"about {intcomma(round(self.value, -3))}"
        return f"about {intcomma(self.value)}"

    def __bool__(self) -> bool:
        return self.value > 0


def estimated_rows(queryset: QuerySet[Any]) -> int | None:
    """The planner's row estimate for ``queryset`` (PostgreSQL only)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def count_of(queryset: QuerySet[Any], exact_up_to: int = EXACT_UP_TO) -> Count:
    """At most ``exact_up_to + 1`` rows read; an estimate above."""
    counted = queryset.order_by().values("pk")[: exact_up_to + 1].count()
    if counted <= exact_up_to:
        return Count(counted)
    estimate = estimated_rows(queryset.order_by())
    if estimate is None or estimate < counted:
        # No planner, or one that is low: say what is known.
        return Count(counted, exact=False)
    return Count(estimate, exact=False, estimated=True)


class ListPage:
    """One page of ``queryset`` (ordered), numbered from 1, without a count."""

    def __init__(
        self, queryset: QuerySet[Any], number: Any, per_page: int, total: Count
    ) -> None:
        try:
            number = max(int(number), 1)
        except (TypeError, ValueError):
            number = 1
        self.per_page = per_page
        self.total = total
        self.num_pages = max(-(-total.value // per_page), 1)
        if total.exact:
            number = min(number, self.num_pages)
        start = (number - 1) * per_page
        rows = list(queryset[start : start + per_page + 1])
        self.number = number
        self.object_list = rows[:per_page]
        self._more = len(rows) > per_page
        if not total.exact:
            # A low estimate never says this is the last page when it is not.
            self.num_pages = max(self.num_pages, number + self._more)

    @property
    def num_pages_label(self) -> str:
        pages = intcomma(self.num_pages)
        return pages if self.total.exact else f"about {pages}"

    def has_next(self) -> bool:
        return self._more

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self) -> Any:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)
