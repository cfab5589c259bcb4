"""Benchmark of the audit ledger on PostgreSQL: append, verify, search, export.

    .venv/bin/python bench/audit_bench.py [--events 10000000]
        [--export-rows 1000000] [--append 5000]

or ``make bench-audit``. It creates a throw-away database
``xconnector_bench_<pid>`` through the admin connection BENCH_PG_URL
(default ``postgres://postgres@127.0.0.1:5432/postgres``), migrates it, then:

1. seeds a valid chain up to ``--events`` events (COPY, hashes computed in
   Python; ``audit_data.seed``), information only;
2. appends ``--append`` events with ``audit.services.record``, one
   transaction each, one process, onto the full table; then as many again
   with ``record_many``, 10 and then 50 events per transaction;
3. verifies the whole chain with ``audit.services.verify_chain``;
4. times ``audit.search.page`` for every filter of the search form, with
   query counts and EXPLAIN ANALYZE of the queries it ran;
5. exports ``--export-rows`` rows with ``audit.export.csv_lines`` in a fresh
   process (wall time and peak RSS growth; a second run under tracemalloc).

It prints one JSON document (targets and pass/fail included), writes it to
bench/results/audit-<UTC timestamp>.json and drops the database, also when
a phase fails or the process is interrupted.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import platform
import random
import re
import resource
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TARGETS = {
    "append_events_per_s": ">= 2000",
    "verify_events_per_s": ">= 200000",
    "search_p95_ms": "<= 50 (every filter kind, first and next page)",
    "export_s": "<= 20 (for 1,000,000 rows)",
    "export_rss_growth_mb": "< 100",
}


# --- Set-up -------------------------------------------------------------------


def setup_django(database_url: str) -> None:
    """Point the settings at the bench database, then start Django."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xconnector.settings")
    # One log line per appended event would flood the terminal; the handler's
    # cost depends on where the output goes, not on the ledger.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Keys of our own, so the settings never write var/secret_key here.
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("XCONNECTOR_AUDIT_SIGNING_KEY", "bench-signing-key")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def database_url(admin_url: str, name: str) -> str:
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()


def log(message: str) -> None:
    from audit_data import log as _log

    _log(message)


# --- Figures -------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 30 runs is the 29th fastest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latency(values_s: list[float]) -> dict[str, Any]:
    ms = [value * 1000 for value in values_s]
    return {
        "runs": len(ms),
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
        "max_ms": round(max(ms), 2),
    }


# --- Append --------------------------------------------------------------------


def record_kwargs(fields: dict[str, Any]) -> dict[str, Any]:
    """``audit.services.record`` arguments for the factory's field values."""
    skip = {"event_type", "actor_type", "actor_id", "actor_name", "request_id"}
    return {key: value for key, value in fields.items() if key not in skip}


def append(factory: Any, count: int, first_index: int) -> dict[str, Any]:
    """``count`` calls of ``record``, each its own transaction, one process."""
    from django.db import connection

    from audit.services import Actor, record
    from xconnector.middleware import request_id_var

    def one(index: int) -> None:
        fields = factory.fields(index)
        token = request_id_var.set(fields["request_id"] or "-")
        try:
            record(
                fields["event_type"],
                Actor(fields["actor_type"], fields["actor_name"], fields["actor_id"]),
                **record_kwargs(fields),
            )
        finally:
            request_id_var.reset(token)

    assert connection.in_atomic_block is False  # so each record() commits
    for index in range(first_index, first_index + 20):  # connect, warm caches
        one(index)
    first_index += 20
    durations = []
    started = time.perf_counter()
    for index in range(first_index, first_index + count):
        call_started = time.perf_counter()
        one(index)
        durations.append(time.perf_counter() - call_started)
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    return {
        "events": count,
        "seconds": round(elapsed, 2),
        "events_per_s": round(rate),
        "per_event": latency(durations),
        "target": TARGETS["append_events_per_s"],
        "pass": rate >= 2000,
        "next_index": first_index + count,
    }


def append_batched(
    factory: Any, count: int, first_index: int, per_transaction: int
) -> dict[str, Any]:
    """``count`` events with ``record_many``, ``per_transaction`` per call.

    How a flow step records the documents it moved: one lock of the chain
    head, one INSERT and one commit for the whole step.
    """
    from audit.services import Actor, Event, record_many

    def event(index: int) -> Event:
        fields = factory.fields(index)
        return Event(
            fields["event_type"],
            Actor(fields["actor_type"], fields["actor_name"], fields["actor_id"]),
            **record_kwargs(fields),
        )

    durations = []
    started = time.perf_counter()
    for start in range(first_index, first_index + count, per_transaction):
        events = [event(index) for index in range(start, start + per_transaction)]
        call_started = time.perf_counter()
        record_many(events)
        durations.append(time.perf_counter() - call_started)
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    return {
        "events": count,
        "events_per_transaction": per_transaction,
        "seconds": round(elapsed, 2),
        "events_per_s": round(rate),
        "per_transaction": latency(durations),
        "target": TARGETS["append_events_per_s"],
        "pass": rate >= 2000,
        "next_index": first_index + count,
    }


def append_breakdown(factory: Any, count: int, first_index: int) -> dict[str, Any]:
    """Where an append's time goes: each SQL statement, and the rest.

    The rest is COMMIT (with its WAL flush) plus Python: the ORM building
    the statements, the model, redaction, the hash.
    """
    from django.db import connection

    from audit.services import Actor, record

    spent: dict[str, float] = {}

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            verb = sql.split(None, 1)[0].upper()
            spent[verb] = spent.get(verb, 0.0) + time.perf_counter() - started

    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        for index in range(first_index, first_index + count):
            fields = factory.fields(index)
            record(
                fields["event_type"],
                Actor(fields["actor_type"], fields["actor_name"], fields["actor_id"]),
                **record_kwargs(fields),
            )
    elapsed = time.perf_counter() - started
    per_event = {verb: round(s / count * 1e6) for verb, s in spent.items()}
    return {
        "events": count,
        "us_per_event": round(elapsed / count * 1e6),
        "statement_us_per_event": per_event,
        "commit_and_python_us_per_event": round(
            (elapsed - sum(spent.values())) / count * 1e6
        ),
        "note": "SELECT includes the BEGIN that psycopg sends before it",
        "next_index": first_index + count,
    }


def append_without_fsync_wait(
    factory: Any, count: int, first_index: int
) -> dict[str, Any]:
    """The same appends with synchronous_commit off (this session only)."""
    from django.db import connection

    from audit.services import Actor, record

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        started = time.perf_counter()
        for index in range(first_index, first_index + count):
            fields = factory.fields(index)
            record(
                fields["event_type"],
                Actor(fields["actor_type"], fields["actor_name"], fields["actor_id"]),
                **record_kwargs(fields),
            )
        elapsed = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
    return {
        "events": count,
        "events_per_s": round(count / elapsed),
        "note": "diagnostic only: commit does not wait for the WAL flush",
        "next_index": first_index + count,
    }


# --- Verify --------------------------------------------------------------------


def verify() -> dict[str, Any]:
    from audit.models import ChainHead
    from audit.services import verify_chain

    expected = ChainHead.objects.get(pk=1).sequence
    started = time.perf_counter()
    result = verify_chain()
    elapsed = time.perf_counter() - started
    if not result.ok or result.events_verified != expected:
        raise RuntimeError(f"verify_chain failed on the seeded chain: {result}")
    rate = result.events_verified / elapsed
    return {
        "events": result.events_verified,
        "seconds": round(elapsed, 1),
        "events_per_s": round(rate),
        "target": TARGETS["verify_events_per_s"],
        "pass": rate >= 200_000,
    }


def verify_breakdown(rows: int) -> dict[str, Any]:
    """Split verify_chain's cost on the first ``rows`` events: reading the
    rows (``audit.rows.iterate``) against re-computing their hashes."""
    from audit import rows as audit_rows
    from audit.models import AuditEvent

    started = time.perf_counter()
    fetched = list(
        itertools.islice(audit_rows.iterate(AuditEvent.objects.all(), 20_000), rows)
    )
    fetch_s = time.perf_counter() - started
    previous = fetched[0][audit_rows.PREV_HASH]
    started = time.perf_counter()
    for row in fetched:
        audit_rows.row_hash(previous, row)
        previous = row[audit_rows.HASH]
    hash_s = time.perf_counter() - started
    count = len(fetched)
    return {
        "events": count,
        "read_rows_us_per_event": round(fetch_s / count * 1e6, 2),
        "hash_us_per_event": round(hash_s / count * 1e6, 2),
        "target_budget_us_per_event": 5.0,
    }


# --- Search --------------------------------------------------------------------

Filters = dict[str, Any]


def search_kinds() -> dict[str, tuple[str, Callable[[dict[str, Any]], Filters]]]:
    """Filter kind: (SQL condition a sampled event meets, its filters)."""
    from audit_data import DEPARTED_USERS

    departed = ", ".join(f"'{name}'" for name in DEPARTED_USERS)
    return {
        "no_filter": ("TRUE", lambda row: {}),
        # Users who left: many events, none recent (see audit_data.DEPARTED_USERS).
        "actor_departed": (
            f"actor_name IN ({departed})",
            lambda row: {"actor": row["actor_name"]},
        ),
        "date_range": (
            "TRUE",
            lambda row: {
                "date_from": row["occurred_at"].date() - timedelta(days=7),
                "date_to": row["occurred_at"].date(),
            },
        ),
        "event_type": ("TRUE", lambda row: {"event_type": row["event_type"]}),
        "actor": ("TRUE", lambda row: {"actor": row["actor_name"]}),
        "flow": ("flow_id IS NOT NULL", lambda row: {"flow": row["flow_id"]}),
        "run": ("run_id IS NOT NULL", lambda row: {"run": row["run_id"]}),
        "system": ("system <> ''", lambda row: {"system": row["system"]}),
        "business_object": (
            "business_object <> ''",
            lambda row: {"business_object": row["business_object"]},
        ),
        "document_ref": (
            "document_ref <> ''",
            lambda row: {"document": row["document_ref"]},
        ),
        "target_ref": ("target_ref <> ''", lambda row: {"document": row["target_ref"]}),
        "sha256": (
            "document_sha256 <> ''",
            lambda row: {"document": row["document_sha256"]},
        ),
        "actor+event_type": (
            "TRUE",
            lambda row: {"actor": row["actor_name"], "event_type": row["event_type"]},
        ),
        "date_range+business_object": (
            "business_object <> ''",
            lambda row: {
                "date_from": row["occurred_at"].date() - timedelta(days=30),
                "date_to": row["occurred_at"].date(),
                "business_object": row["business_object"],
            },
        ),
    }


def sample_rows(
    rng: random.Random, condition: str, count: int, last_sequence: int
) -> list[dict[str, Any]]:
    """Events picked uniformly at random among those matching ``condition``.

    Random sequence numbers are looked up 5,000 at a time, so rare or old
    values cost no more to sample than common, recent ones.
    """
    from audit.models import AuditEvent

    rows: list[dict[str, Any]] = []
    for _round in range(200):
        picks = [rng.randrange(1, last_sequence + 1) for _ in range(5_000)]
        found = list(
            AuditEvent.objects.filter(sequence__in=picks)
            .extra(where=[condition])  # noqa: S610 (our own constant conditions)
            .order_by("sequence")
            .values()
        )
        rng.shuffle(found)
        rows.extend(found[: count - len(rows)])
        if len(rows) == count:
            return rows
    raise RuntimeError(f"Too few seeded events match {condition}")


_INDEX_USE = re.compile(
    r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)?"
    r" (?:using|on) (\w+)"
)


def explain(queries: list[dict[str, str]]) -> list[dict[str, Any]]:
    """EXPLAIN ANALYZE of the exact SQL that page() ran (values inlined)."""
    from django.db import connection

    plans = []
    with connection.cursor() as cursor:
        for query in queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = [line for (line,) in cursor.fetchall()]
            text = "\n".join(plan)
            plans.append(
                {
                    "sql": query["sql"],
                    "indexes_used": sorted(set(_INDEX_USE.findall(text))),
                    "seq_scan": "Seq Scan" in text,
                    "plan": plan,
                }
            )
    return plans


def search(runs: int, warmup: int, seed: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit.models import ChainHead
    from audit.search import PAGE_SIZE, page

    rng = random.Random(seed)  # noqa: S311 (reproducible picks, not secrets)
    last_sequence = ChainHead.objects.get(pk=1).sequence
    kinds: dict[str, Any] = {}
    worst = 0.0
    for kind, (condition, to_filters) in search_kinds().items():
        rows = sample_rows(rng, condition, warmup + runs, last_sequence)
        for row in rows[:warmup]:
            first = page(to_filters(row))
            if first.older:
                page(to_filters(row), before=first.older)
        first_times, next_times, sizes = [], [], []
        slowest: tuple[float, Filters] = (0.0, {})
        for row in rows[warmup:]:
            filters = to_filters(row)
            started = time.perf_counter()
            first = page(filters)
            elapsed = time.perf_counter() - started
            first_times.append(elapsed)
            sizes.append(len(first.events))
            slowest = max(slowest, (elapsed, filters), key=lambda item: item[0])
            if first.older:
                started = time.perf_counter()
                page(filters, before=first.older)
                next_times.append(time.perf_counter() - started)
        # Query counts and plans: the slowest filters again, untimed.
        filters = slowest[1]
        with CaptureQueriesContext(connection) as first_queries:
            first = page(filters)
        entry: dict[str, Any] = {
            "first_page": {
                **latency(first_times),
                "queries": len(first_queries),
                "median_rows": sorted(sizes)[len(sizes) // 2],
            },
            "slowest_filters": {key: str(value) for key, value in filters.items()},
            "explain_first_page_of_slowest": explain(first_queries.captured_queries),
        }
        if next_times:
            entry["next_page"] = latency(next_times)
            worst = max(worst, entry["next_page"]["p95_ms"])
        if first.older:
            with CaptureQueriesContext(connection) as next_queries:
                page(filters, before=first.older)
            entry.setdefault("next_page", {})["queries"] = len(next_queries)
            entry["explain_next_page_of_slowest"] = explain(
                next_queries.captured_queries
            )
        worst = max(worst, entry["first_page"]["p95_ms"])
        kinds[kind] = entry
        log(
            f"  search {kind}: p95 {entry['first_page']['p95_ms']} ms "
            f"(next page {entry.get('next_page', {}).get('p95_ms')} ms)"
        )
    return {
        "page_size": PAGE_SIZE,
        "kinds": kinds,
        "worst_p95_ms": worst,
        "target": TARGETS["search_p95_ms"],
        "pass": worst <= 50,
    }


# --- Export (in a child process, so its memory is its own) ----------------------


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def export_child(rows: int, trace: bool) -> dict[str, Any]:
    """Stream ``rows`` CSV rows of the whole trail to /dev/null, measured."""
    from django.db import connection

    from audit.export import csv_lines
    from audit.search import iterate

    connection.ensure_connection()
    if trace:
        tracemalloc.start()
    # VmHWM is the peak RSS of this process image. ru_maxrss would do in a
    # process of its own, but Linux carries the parent's peak across fork
    # and exec into it, which would hide any growth below the parent's size.
    baseline_kb = _status_kb("VmHWM")
    maxrss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lines = characters = 0
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        for line in csv_lines(itertools.islice(iterate({}), rows)):
            sink.write(line)
            lines += 1
            characters += len(line)
    elapsed = time.perf_counter() - started
    peak_kb = _status_kb("VmHWM")
    result = {
        "rows": lines - 1,  # the header is not a row
        "seconds": round(elapsed, 2),
        "rows_per_s": round((lines - 1) / elapsed),
        "output_mb": round(characters / 1e6, 1),
        "rss_baseline_mb": round(baseline_kb / 1024, 1),
        "rss_peak_mb": round(peak_kb / 1024, 1),
        "rss_growth_mb": round((peak_kb - baseline_kb) / 1024, 1),
        "ru_maxrss_before_mb": round(maxrss_before_kb / 1024, 1),
        "ru_maxrss_after_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }
    if trace:
        result["tracemalloc_peak_mb"] = round(
            tracemalloc.get_traced_memory()[1] / 1e6, 1
        )
    return result


def export(rows: int) -> dict[str, Any]:
    def child(rows: int, trace: bool) -> dict[str, Any]:
        command = [sys.executable, __file__, "--export-child", "--export-rows"]
        command += [str(rows)] + (["--tracemalloc"] if trace else [])
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode:
            raise RuntimeError(f"export child failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    timed = child(rows, trace=False)
    # tracemalloc makes Python ~5x slower; the peak is per keyset batch, so
    # 200,000 rows (40 batches) show it as well as a million would.
    traced_rows = min(rows, 200_000)
    traced = child(traced_rows, trace=True)
    return {
        **timed,
        "tracemalloc_peak_mb": traced["tracemalloc_peak_mb"],
        "tracemalloc_run_rows": traced["rows"],
        "tracemalloc_run_rss_growth_mb": traced["rss_growth_mb"],
        "memory_note": (
            "rss_growth_mb = peak RSS (VmHWM) after the export minus peak RSS "
            "after Django start-up and connect, in a fresh process; ru_maxrss "
            "is shown too but includes the parent's size (Linux keeps it "
            "across fork/exec); tracemalloc_peak_mb is "
            "the peak of Python allocations in a second run under tracemalloc "
            "(slower; its time is not the export time)"
        ),
        "target": {
            "seconds": TARGETS["export_s"],
            "rss_growth_mb": TARGETS["export_rss_growth_mb"],
        },
        "pass_time": timed["seconds"] <= 20 * rows / 1_000_000,
        "pass_memory": timed["rss_growth_mb"] < 100,
        "pass": timed["seconds"] <= 20 * rows / 1_000_000
        and timed["rss_growth_mb"] < 100,
    }


# --- Machine and run ---------------------------------------------------------------


def machine() -> dict[str, Any]:
    import django
    import orjson
    from django.db import connection

    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    settings = (
        "server_version",
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "synchronous_commit",
        "wal_sync_method",
        "max_wal_size",
        "autovacuum",
        "jit",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)",
            [list(settings)],
        )
        postgres = {
            name: f"{value}{' x ' + unit if unit else ''}"
            for name, value, unit in cursor.fetchall()
        }
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_total_gb": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "orjson": orjson.__version__,
        "postgresql": postgres,
    }


def source_state() -> dict[str, Any]:
    """Which audit code was measured: commit, local changes, a content hash."""

    def git(*args: str) -> str:
        done = subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    digest = hashlib.sha256()
    for path in sorted((ROOT / "audit").rglob("*.py")):
        digest.update(path.read_bytes())
    return {
        "commit": git("rev-parse", "HEAD"),
        "audit_local_changes": git("status", "--porcelain", "audit").splitlines(),
        "audit_sources_sha256": digest.hexdigest(),
    }


def table_sizes() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size('audit_auditevent'), "
            "pg_indexes_size('audit_auditevent'), "
            "pg_total_relation_size('audit_auditevent')"
        )
        table, indexes, total = cursor.fetchone()
    return {
        "table_gb": round(table / 2**30, 2),
        "indexes_gb": round(indexes / 2**30, 2),
        "total_gb": round(total / 2**30, 2),
    }


def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from audit_data import EventFactory, seed
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    report: dict[str, Any] = {"machine": machine()}
    factory = EventFactory(args.events, seed=args.seed)
    seeded = max(0, args.events - args.append)
    log(f"seed {seeded:,} events")
    report["seed"] = seed(
        url, factory, seeded, rebuild_indexes=args.seed_indexes == "rebuild"
    )
    report["seed"]["table"] = table_sizes()
    log(f"append {args.append:,} events with record()")
    report["append"] = append(factory, args.append, first_index=seeded)
    diagnostics: dict[str, Any] = {}
    index = report["append"].pop("next_index")
    for per_transaction in (10, 50):
        log(f"append {args.append:,} events, {per_transaction} per record_many()")
        batched = append_batched(factory, args.append, index, per_transaction)
        index = batched.pop("next_index")
        report[f"append_batched_{per_transaction}"] = batched
    diagnostics["append_breakdown"] = append_breakdown(factory, 500, index)
    index = diagnostics["append_breakdown"].pop("next_index")
    diagnostics["append_synchronous_commit_off"] = append_without_fsync_wait(
        factory, 1000, index
    )
    diagnostics["append_synchronous_commit_off"].pop("next_index")
    log("verify the whole chain")
    report["verify"] = verify()
    diagnostics["verify_breakdown"] = verify_breakdown(min(args.events, 500_000))
    log("search")
    report["search"] = search(args.search_runs, args.warmup, args.seed)
    log(f"export {args.export_rows:,} rows")
    report["export"] = export(args.export_rows)
    report["diagnostics"] = diagnostics
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--append", type=int, default=5_000)
    parser.add_argument("--search-runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument(
        "--seed-indexes",
        choices=("rebuild", "keep"),
        default="rebuild",
        help="drop the indexes during COPY and re-create them (default) or keep",
    )
    parser.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.export_child:  # DATABASE_URL comes from the parent
        setup_django(os.environ["DATABASE_URL"])
        print(json.dumps(export_child(args.export_rows, args.tracemalloc)))
        return 0

    # A SIGTERM (timeout, kill <pid>) must still drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    admin_url = os.environ.get("BENCH_PG_URL", DEFAULT_ADMIN_URL)
    name = f"xconnector_bench_{os.getpid()}"
    url = database_url(admin_url, name)
    started_at = datetime.now(UTC)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        setup_django(url)
        log(f"database {name}")
        report = {
            "benchmark": "audit ledger on PostgreSQL",
            "started_at": started_at.isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "parameters": {
                key: value for key, value in vars(args).items() if "child" not in key
            },
            "source": source_state(),
            "targets": TARGETS,
            **run(args, url),
        }
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped {name}")
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["summary"] = summary(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"audit-{started_at:%Y%m%dT%H%M%SZ}.json"
    text = json.dumps(report, indent=2, default=str)
    path.write_text(text + "\n")
    print(text)
    log(f"written to {path.relative_to(ROOT)}")
    return 0 if all(item["pass"] for item in report["summary"].values()) else 1


def summary(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One line per target: the measured figure, the target, pass or fail."""
    exported = report["export"]
    return {
        "append_events_per_s": {
            "value": report["append"]["events_per_s"],
            "target": TARGETS["append_events_per_s"],
            "pass": report["append"]["pass"],
            "note": "one event per transaction",
        },
        **{
            f"append_events_per_s_{n}_per_transaction": {
                "value": report[f"append_batched_{n}"]["events_per_s"],
                "target": TARGETS["append_events_per_s"],
                "pass": report[f"append_batched_{n}"]["pass"],
            }
            for n in (10, 50)
        },
        "verify_events_per_s": {
            "value": report["verify"]["events_per_s"],
            "target": TARGETS["verify_events_per_s"],
            "pass": report["verify"]["pass"],
        },
        "search_p95_ms": {
            "value": report["search"]["worst_p95_ms"],
            "target": TARGETS["search_p95_ms"],
            "pass": report["search"]["pass"],
        },
        "export_s": {
            "value": exported["seconds"],
            "rows": exported["rows"],
            "target": TARGETS["export_s"],
            "pass": exported["pass_time"],
        },
        "export_rss_growth_mb": {
            "value": exported["rss_growth_mb"],
            "target": TARGETS["export_rss_growth_mb"],
            "pass": exported["pass_memory"],
        },
    }


if __name__ == "__main__":
    sys.exit(main())
