"""Audit events as plain rows, for the two jobs that read millions of them.

Verification and the CSV export read every hashed column of every event.
Model instances cost more than the hashing itself, so both read tuples in
the order of ``COLUMNS`` instead, in keyset batches (flat memory), with the
timestamp already in its canonical text (PostgreSQL formats it) and the
payload as its canonical JSON text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from hashlib import sha256

import orjson
from django.db import connections
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.functions import Cast

from audit import canonical
from audit.models import AuditEvent

COLUMNS = (*canonical.HASHED_FIELDS, "prev_hash", "hash")
SEQUENCE = COLUMNS.index("sequence")
OCCURRED_AT = COLUMNS.index("occurred_at")
PAYLOAD = COLUMNS.index("payload")
PREV_HASH = COLUMNS.index("prev_hash")
HASH = COLUMNS.index("hash")

Row = tuple  # the values of COLUMNS, with occurred_at and payload as text


class _CanonicalTimestamp(Func):
    """``occurred_at`` as ``2026-11-22T05:40:00.123456Z``, made by PostgreSQL."""

    template = (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')'
    )
    output_field = TextField()


def iterate(events: QuerySet[AuditEvent], batch: int = 5000) -> Iterator[Row]:
    """Every event of ``events`` as a row, oldest first, ``batch`` at a time."""
    postgresql = connections[events.db].vendor == "postgresql"
    expressions = {
        "_occurred": _CanonicalTimestamp(F("occurred_at"))
        if postgresql
        else F("occurred_at"),
        "_payload": Cast("payload", TextField()),
    }
    names = [
        "_occurred"
        if name == "occurred_at"
        else "_payload"
        if name == "payload"
        else name
        for name in COLUMNS
    ]
    source = events.annotate(**expressions).order_by("sequence").values_list(*names)
    after = None
    while True:
        page = source if after is None else source.filter(sequence__gt=after)
        rows = list(page[:batch])
        for row in rows:
            yield _canonical_row(row)
        if len(rows) < batch:
            return
        after = rows[-1][SEQUENCE]


def _canonical_row(row: tuple) -> Row:
    occurred = row[OCCURRED_AT]
    if isinstance(occurred, datetime):
        occurred = canonical.timestamp(occurred)
    payload = orjson.dumps(orjson.loads(row[PAYLOAD]), option=orjson.OPT_SORT_KEYS)
    return (
        *row[:OCCURRED_AT],
        occurred,
        *row[OCCURRED_AT + 1 : PAYLOAD],
        payload.decode(),
        *row[PAYLOAD + 1 :],
    )


_SORTED = sorted(
    range(len(canonical.HASHED_FIELDS)), key=canonical.HASHED_FIELDS.__getitem__
)
_SORTED_NAMES = [canonical.HASHED_FIELDS[index] for index in _SORTED]


def row_hash(prev_hash: str, row: Row) -> str:
    """``canonical.chain_hash`` of a row: the same bytes, built from a tuple."""
    document = dict(zip(_SORTED_NAMES, [row[index] for index in _SORTED], strict=True))
    document["payload"] = orjson.Fragment(row[PAYLOAD])
    digest = sha256(prev_hash.encode("ascii"))
    digest.update(orjson.dumps(document))
    return digest.hexdigest()
