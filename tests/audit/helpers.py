"""Test helpers: ways to attack the audit table that a real attacker could."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pgtrigger
from django.db import connection

SQLITE_TRIGGER = (
    "CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
)


@contextmanager
def bypassing_append_only() -> Iterator[None]:
    """What a database superuser could do: switch the protection off."""
    if connection.vendor == "postgresql":
        with pgtrigger.ignore("audit.AuditEvent:audit_append_only"):
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER audit_append_only_update")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(SQLITE_TRIGGER)


def raw_sql(statement: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


# Each search filter and the sequences it must find in the trail the
# compliance page tests and the API tests both build (events 1 to 6).
FILTER_CASES = [
    ({}, [6, 5, 4, 3, 2, 1]),
    ({"date_from": "2026-02-01"}, [6, 5, 4, 3]),
    ({"date_to": "2026-02-01"}, [3, 2, 1]),
    ({"date_from": "2026-01-06", "date_to": "2026-02-02"}, [4, 3, 2]),
    ({"event_type": "task.resolved"}, [4]),
    ({"actor": "rita"}, [5, 4]),
    ({"flow": "1"}, [2, 1]),
    ({"run": "12"}, [4, 3]),
    ({"system": "otcs"}, [2, 1]),
    ({"business_object": "contract:C-1042"}, [5, 2, 1]),
    ({"document": "billing:INV-2"}, [2]),
    ({"document": "otcs:node/9005"}, [5]),
    ({"document": f"{1:064X}"}, [1]),
    ({"actor": "rita", "business_object": "contract:C-1042"}, [5]),
    ({"date_from": "2027-01-01"}, []),
]
