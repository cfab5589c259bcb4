"""Streaming CSV export of the audit trail (constant memory).

Each row holds every hashed field, ``prev_hash`` and ``hash``; the payload
column is the canonical JSON of the payload, so an auditor can re-compute
each hash from the file alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

import orjson

from audit import canonical
from audit.models import AuditEvent

COLUMNS = (*canonical.HASHED_FIELDS, "prev_hash", "hash")


class _Echo:
    """A file-like object whose write() returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in events:
        row = []
        for name in COLUMNS:
            value = getattr(event, name)
            if name == "occurred_at":
                value = canonical.timestamp(value)
            elif name == "payload":
                value = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
            elif value is None:
                value = ""
            row.append(value)
        yield writer.writerow(row)
