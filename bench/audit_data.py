"""Realistic audit events for the benchmark, and a fast, valid bulk seed.

``EventFactory`` gives the values of the i-th event: ~17 event types in a
plausible mix, 50 actors, 200 flows, 20,000 business objects and about one
document per ten events. It is deterministic for a given seed, so two runs
load the same data.

``seed`` appends events to the chain without ``audit.services.record``: it
continues from the chain head, computes every hash with
``audit.canonical.chain_hash`` in Python, streams the rows to PostgreSQL
with ``COPY ... FROM STDIN`` in batches (never holding more than one row in
memory) and moves the head. The result verifies like a chain that
``record`` wrote, one event at a time.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg

from audit.canonical import HASHED_FIELDS, chain_hash, timestamp

EVENT_MIX = {  # per mille of all events
    "document.transferred": 380,
    "document.accessed": 160,
    "transfer.failed": 25,
    "run.started": 100,
    "run.replayed": 8,
    "run.cancelled": 4,
    "task.opened": 30,
    "task.claimed": 22,
    "task.resolved": 20,
    "task.dismissed": 5,
    "approval.granted": 25,
    "approval.rejected": 5,
    "config.changed": 6,
    "export.made": 5,
    "auth.login": 100,
    "auth.login_failed": 10,
    "auth.logout": 95,
}
_FIRST = ("anna", "ben", "clara", "david", "eva", "felix", "greta", "hugo")
_LAST = ("meyer", "schmidt", "dubois", "rossi", "novak")
USERS = tuple(f"{first}.{last}" for first in _FIRST for last in _LAST)  # 40
# Staff turnover: the last five users act only in the oldest tenth of the
# trail, so a search for them must not walk the whole table backwards.
DEPARTED_USERS = USERS[-5:]
SYSTEM_ACTORS = (
    "worker",
    "scheduler",
    "api",
    "importer",
    "verifier",
    "webhook",
    "sync",
    "retention",
    "mailer",
    "migrator",
)  # 10 + 40 users = 50 actors
SYSTEMS = ("sharepoint", "sap", "salesforce", "docuware", "dynamics", "sftp")
FLOWS = 200
CONNECTIONS = 40
BUSINESS_OBJECTS = 20_000
EVENTS_PER_RUN = 25
_BO_KINDS = (("contract", "C"), ("invoice", "INV"), ("supplier", "S"), ("case", "K"))

# The COPY column list: the hashed fields, then the two chain links.
COPY_COLUMNS = (*HASHED_FIELDS, "prev_hash", "hash")
_PAYLOAD = HASHED_FIELDS.index("payload")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventFactory:
    """The subject values of realistic events (everything but sequence/time)."""

    def __init__(self, total: int, seed: int = 42) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
        self.documents = max(1_000, total // 10)
        self.total = max(total, 1)
        self._types = tuple(EVENT_MIX)
        self._cumulative = []
        running = 0
        for share in EVENT_MIX.values():
            running += share
            self._cumulative.append(running)
        self.business_objects = tuple(
            "{}:{}-{:05d}".format(*_BO_KINDS[number % len(_BO_KINDS)], number)
            for number in range(BUSINESS_OBJECTS)
        )

    def event_type(self) -> str:
        pick = self.rng.random() * self._cumulative[-1]
        return self._types[bisect.bisect_right(self._cumulative, pick)]

    def _document(self, index: int) -> int:
        """Documents arrive over time; most events touch a recent one."""
        rng = self.rng
        if rng.random() < 0.1:
            return rng.randrange(self.documents)
        centre = index * self.documents // self.total
        return min(self.documents - 1, max(0, centre + rng.randrange(-2000, 2000)))

    def fields(self, index: int) -> dict[str, Any]:
        """Every hashed field of the ``index``-th event but sequence and time."""
        rng = self.rng
        event_type = self.event_type()
        group = event_type.split(".", 1)[0]
        run_id = 1 + index // EVENTS_PER_RUN
        flow_id = 1 + (run_id * 2654435761) % FLOWS
        connection_id = 1 + flow_id % CONNECTIONS
        system = SYSTEMS[connection_id % len(SYSTEMS)]
        early = index < self.total // 10
        user = rng.randrange(len(USERS) if early else len(USERS) - len(DEPARTED_USERS))
        business_object = name = ""
        fields: dict[str, Any] = {
            "event_type": event_type,
            "actor_type": "user",
            "actor_id": user + 1,
            "actor_name": USERS[user],
            "request_id": f"{rng.getrandbits(128):032x}",
            "correlation_id": "",
            "flow_id": None,
            "run_id": None,
            "connection_id": None,
            "system": "",
            "business_object": "",
            "document_ref": "",
            "target_ref": "",
            "document_sha256": "",
            "document_size": None,
            "summary": "",
            "payload": {},
        }
        if group in ("document", "transfer", "task", "approval"):
            document = self._document(index)
            business_object = self.business_objects[document * 7919 % BUSINESS_OBJECTS]
            fields["business_object"] = business_object
            fields["document_ref"] = f"otcs://nodes/{10_000_000 + document}"
            fields["document_sha256"] = hashlib.sha256(
                b"document-%d" % document
            ).hexdigest()
            fields["document_size"] = 20_000 + document * 2654435761 % 5_000_000
            name = f"D{document}.pdf"
        if group in ("document", "transfer", "run", "task", "approval"):
            fields.update(
                flow_id=flow_id,
                run_id=run_id,
                connection_id=connection_id,
                system=system,
                correlation_id=f"run-{run_id}",
            )
        if event_type in ("document.transferred", "transfer.failed", "run.started"):
            # Components act on their own: no person, no web request.
            component = "scheduler" if group == "run" else "worker"
            fields.update(
                actor_type="system",
                actor_id=None,
                actor_name=component,
                request_id="",
            )
        if event_type == "document.transferred":
            fields["target_ref"] = (
                f"{system}://sites/{business_object.replace(':', '/')}/{name}"
            )
            fields["summary"] = f"{name} transferred to {system}"
            fields["payload"] = {
                "attempt": 1 + (rng.random() < 0.05),
                "mime": "application/pdf",
                "pages": rng.randrange(1, 80),
            }
        elif event_type == "document.accessed":
            fields.update(flow_id=None, run_id=None, connection_id=None, system="")
            fields["correlation_id"] = ""
            fields["summary"] = f"{name} opened"
            fields["payload"] = {"via": "web" if rng.random() < 0.8 else "api"}
        elif event_type == "transfer.failed":
            fields["summary"] = f"{name} could not be transferred to {system}"
            fields["payload"] = {
                "attempt": rng.randrange(1, 6),
                "error": f"HTTP 503 from {system}",
                "retry": True,
            }
        elif group == "run":
            fields["summary"] = f"Run {run_id} of flow {flow_id} {event_type[4:]}"
            fields["payload"] = {"trigger": "schedule" if rng.random() < 0.9 else "api"}
        elif group in ("task", "approval"):
            fields["summary"] = f"{event_type} for {name}"
            fields["payload"] = {"task": index // 7, "step": rng.randrange(1, 4)}
        elif event_type == "config.changed":
            fields.update(flow_id=flow_id, connection_id=connection_id, system=system)
            fields["summary"] = f"Flow “{flow_id}” changed"
            fields["payload"] = {
                "object_type": "flow",
                "object_id": str(flow_id),
                "action": "changed",
                "changes": {"schedule": {"before": "*/15", "after": "*/5"}},
            }
        elif event_type == "export.made":
            fields["summary"] = "Audit events exported as CSV"
            fields["payload"] = {"format": "csv", "filters": {"flow": flow_id}}
        else:  # auth.*
            fields["summary"] = event_type.replace(".", " ")
            fields["payload"] = {"ip": f"10.{user}.{rng.randrange(256)}.7"}
        return fields


def _rows(
    factory: EventFactory,
    first_index: int,
    first_sequence: int,
    count: int,
    prev_hash: str,
    start_us: int,
    gap_us: float,
    state: dict[str, Any],
) -> Iterator[list[Any]]:
    """COPY rows, one at a time, each hashed onto the one before it."""
    rng = factory.rng
    now_us = start_us
    for offset in range(count):
        fields = factory.fields(first_index + offset)
        fields["sequence"] = first_sequence + offset
        now_us += 1 + int(rng.expovariate(1.0 / gap_us))
        # The canonical string itself: hashed as is, parsed as is by COPY.
        fields["occurred_at"] = timestamp(_EPOCH + timedelta(microseconds=now_us))
        digest = chain_hash(prev_hash, fields)
        row = [fields[name] for name in HASHED_FIELDS]
        row[_PAYLOAD] = orjson.dumps(row[_PAYLOAD]).decode()
        row.append(prev_hash)
        row.append(digest)
        prev_hash = digest
        yield row
    state.update(hash=prev_hash, time_us=now_us)


def _table_indexes(conn: psycopg.Connection) -> list[tuple[str, str, str | None]]:
    """(index name, CREATE INDEX statement, constraint definition or None)."""
    return conn.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid), pg_get_constraintdef(c.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_constraint c
          ON c.conindid = i.oid AND c.conrelid = x.indrelid
        WHERE x.indrelid = 'audit_auditevent'::regclass AND NOT x.indisprimary
        ORDER BY i.relname
        """
    ).fetchall()


def _drop_indexes(conn: psycopg.Connection) -> list[tuple[str, str, str | None]]:
    indexes = _table_indexes(conn)
    for name, _definition, constraint in indexes:
        if constraint:
            conn.execute(f'ALTER TABLE audit_auditevent DROP CONSTRAINT "{name}"')
        else:
            conn.execute(f'DROP INDEX "{name}"')
    conn.commit()
    return indexes


def _rebuild_indexes(
    conn: psycopg.Connection, indexes: list[tuple[str, str, str | None]]
) -> None:
    """Re-create exactly what was dropped, then check the schema is the same."""
    conn.execute("SET maintenance_work_mem = '1GB'")
    for name, definition, constraint in indexes:
        log(f"  index {name}")
        if constraint:
            conn.execute(
                f'ALTER TABLE audit_auditevent ADD CONSTRAINT "{name}" {constraint}'
            )
        else:
            conn.execute(definition)
        conn.commit()
    if _table_indexes(conn) != indexes:
        raise RuntimeError("The rebuilt indexes differ from the migrated ones.")


def seed(
    url: str,
    factory: EventFactory,
    count: int,
    *,
    first_index: int = 0,
    rebuild_indexes: bool = True,
    batch: int = 250_000,
    span: timedelta = timedelta(days=365),
) -> dict[str, Any]:
    """Append ``count`` valid events from the chain head; return the timings.

    ``occurred_at`` rises with the sequence over ``span`` ending one hour
    ago, so events that ``record`` appends afterwards (at "now") keep time
    order.
    """
    started = time.perf_counter()
    timings: dict[str, Any] = {"events": count, "batch": batch}
    end = datetime.now(UTC) - timedelta(hours=1)
    start_us = (end - span - _EPOCH) // timedelta(microseconds=1)
    gap_us = span / timedelta(microseconds=1) / max(count, 1)
    with psycopg.connect(url) as conn:
        sequence, prev_hash = conn.execute(
            "SELECT sequence, hash FROM audit_chainhead WHERE id = 1 FOR UPDATE"
        ).fetchone()
        conn.commit()
        dropped = _drop_indexes(conn) if rebuild_indexes else []
        timings["indexes_dropped"] = len(dropped)
        columns = ", ".join(COPY_COLUMNS)
        state: dict[str, Any] = {"hash": prev_hash, "time_us": start_us}
        done = 0
        copy_started = time.perf_counter()
        while done < count:
            size = min(batch, count - done)
            rows = _rows(
                factory,
                first_index + done,
                sequence + 1 + done,
                size,
                state["hash"],
                state["time_us"],
                gap_us,
                state,
            )
            with (
                conn.cursor() as cursor,
                cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            done += size
            rate = done / (time.perf_counter() - copy_started)
            log(f"  seeded {done:,}/{count:,} ({rate:,.0f} events/s)")
        timings["copy_s"] = round(time.perf_counter() - copy_started, 1)
        if dropped:
            rebuild_started = time.perf_counter()
            _rebuild_indexes(conn, dropped)
            timings["index_rebuild_s"] = round(time.perf_counter() - rebuild_started, 1)
        conn.execute(
            "UPDATE audit_chainhead SET sequence = %s, hash = %s WHERE id = 1",
            (sequence + count, state["hash"]),
        )
        conn.commit()
        # VACUUM as well as ANALYZE: autovacuum may be off (it is on the
        # reference machine), and a never-vacuumed table has no visibility
        # map and unset hint bits, which would make the first reads write.
        vacuum_started = time.perf_counter()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) audit_auditevent")
        timings["vacuum_analyze_s"] = round(time.perf_counter() - vacuum_started, 1)
    timings["total_s"] = round(time.perf_counter() - started, 1)
    timings["events_per_s"] = round(count / timings["total_s"]) if count else None
    return timings


_T0 = time.perf_counter()


def log(message: str) -> None:
    """Progress on stderr, so stdout stays one JSON document."""
    print(f"[{time.perf_counter() - _T0:8.1f}s] {message}", file=sys.stderr, flush=True)
