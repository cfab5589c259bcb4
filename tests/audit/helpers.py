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
