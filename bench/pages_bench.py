"""Benchmark of the busiest pages on a large installation, on PostgreSQL.

    .venv/bin/python bench/pages_bench.py [--runs 1000000] [--tasks 100000]
        [--events 10000000] [--requests 30] [--keep]

or ``make bench-pages``. It (re-)creates the database named by BENCH_PG_URL
(default ``postgres://postgres@127.0.0.1:5432/xcx_pages_bench``), migrates
it, then seeds:

* ``--tasks`` review tasks, each with its run (``inbox_bench.seed``: six
  queues, every kind, due dates around today), their runs spread over the
  last ten days;
* runs up to ``--runs`` in all, in SQL (``generate_series``), spread
  evenly over the last 365 days over 20 flows: 93% succeeded, 3% failed,
  2% replayed, 1% cancelled, 1% waiting; each with two step runs (a mapping
  and an upload into Content Server) and, when it succeeded, the transfer
  of its document;
* ``--events`` audit events continuing the chain (``audit_data.seed``:
  hashed, ``COPY``, valid for verification).

Then it times each page (Django test client, signed in, the whole request:
middleware, queries, template rendering) ``--requests`` times after three
warm-up requests: p50/p95/max, the number of queries and their time, and
the EXPLAIN ANALYZE of the slowest queries of one request. The target is a
server p95 <= 100 ms for every page.

It prints a table, writes bench/results/pages-<UTC timestamp>.json and
drops the database (unless ``--keep``), also when a phase fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

# The other benchmarks of this folder, and the project (audit_data needs it).
sys.path[:0] = [
    str(Path(__file__).resolve().parent),
    str(Path(__file__).resolve().parent.parent),
]

import audit_data  # noqa: E402 - after the path above
import flow_bench  # noqa: E402
import inbox_bench  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/xcx_pages_bench"
TARGET_MS = 100
FLOWS = 20
RUN_SPAN_DAYS = 365
TASK_SPAN_DAYS = 10


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- Data ------------------------------------------------------------------------


def seed_runs(count: int) -> dict[str, Any]:
    """``count`` finished runs over ``FLOWS`` flows, in SQL."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from integrations import services

    admin = get_user_model().objects.get(username="ada")
    step = {
        "key": "map",
        "type": "set",
        "name": "Map the invoice",
        "variables": [{"name": "number", "expression": "trigger.number"}],
    }
    flows = [
        services.create_flow(
            f"File invoices {n:02d}",
            {"trigger": {"type": "manual"}, "steps": [step]},
            admin,
        )
        for n in range(FLOWS)
    ]
    versions = [flow.versions.order_by("-number").first() for flow in flows]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # g = 1 is the oldest run; created_at rises with g.
        cursor.execute(
            """
            CREATE TEMP TABLE bench_runs AS
            SELECT g,
                   (%(flows)s::bigint[])[1 + g %% %(n)s] AS flow_id,
                   (%(versions)s::bigint[])[1 + g %% %(n)s] AS version_id,
                   CASE WHEN g %% 100 < 93 THEN 'succeeded'
                        WHEN g %% 100 < 96 THEN 'failed'
                        WHEN g %% 100 < 98 THEN 'replayed'
                        WHEN g %% 100 < 99 THEN 'cancelled'
                        ELSE 'waiting' END AS status,
                   now() - make_interval(days => %(days)s)
                       * (1 - g::float8 / %(count)s) AS created_at
            FROM generate_series(1, %(count)s) AS g
            """,
            {
                "count": count,
                "n": FLOWS,
                "days": RUN_SPAN_DAYS,
                "flows": [flow.pk for flow in flows],
                "versions": [version.pk for version in versions],
            },
        )
        cursor.execute(
            """
            INSERT INTO integrations_flowrun (
                status, trigger_kind, event_id, source_ref, payload, context,
                checkpoint, step_attempt, attempt, worker, error, error_detail,
                created_at, started_at, finished_at, flow_id, started_by_id,
                version_id, business_key)
            SELECT status, 'webhook', 'evt-' || g, '',
                   jsonb_build_object('number', 'INV-' || lpad(g::text, 7, '0'),
                                      'amount', g %% 9000),
                   jsonb_build_object('steps', '{}'::jsonb, 'vars', '{}'::jsonb),
                   2, 0, 1, '',
                   CASE WHEN status = 'failed'
                        THEN 'Content Server answered 500: try again later.'
                        ELSE '' END,
                   '', created_at, created_at + interval '40 ms',
                   CASE WHEN status = 'waiting' THEN NULL
                        ELSE created_at + interval '900 ms' END,
                   flow_id, %(admin)s, version_id,
                   'invoice:INV-' || lpad(g::text, 7, '0')
            FROM bench_runs ORDER BY g
            """,
            {"admin": admin.pk},
        )
        cursor.execute(
            """
            CREATE TEMP TABLE bench_ids AS
            SELECT r.id, b.g, b.status, b.flow_id, r.created_at
            FROM integrations_flowrun r
            JOIN bench_runs b ON r.event_id = 'evt-' || b.g AND r.flow_id = b.flow_id
            """
        )
        for index, (key, kind, system) in enumerate(
            (("map", "set", ""), ("upload", "action", "otcs"))
        ):
            cursor.execute(
                """
                INSERT INTO integrations_steprun (
                    step_key, step_index, step_type, attempt, run_attempt,
                    status, input, output, error, error_detail, http_status,
                    duration_ms, started_at, finished_at, run_id, system)
                SELECT %(key)s, %(index)s, %(kind)s, 1, 1,
                       CASE WHEN %(index)s = 1 AND status = 'failed' THEN 'failed'
                            ELSE 'succeeded' END,
                       jsonb_build_object('number', 'INV-' || lpad(g::text, 7, '0')),
                       jsonb_build_object('id', 100000 + g),
                       CASE WHEN %(index)s = 1 AND status = 'failed'
                            THEN 'Content Server answered 500.' ELSE '' END,
                       '', CASE WHEN %(index)s = 1 THEN 201 END, 300,
                       created_at + make_interval(secs => %(start)s),
                       created_at + make_interval(secs => %(end)s), id, %(system)s
                FROM bench_ids
                """,
                {
                    "key": key,
                    "index": index,
                    "kind": kind,
                    "system": system,
                    "start": 0.1 + 0.4 * index,
                    "end": 0.4 + 0.4 * index,
                },
            )
        cursor.execute(
            """
            INSERT INTO integrations_transfer (
                source_system, source_id, source_version, name, media_type,
                size, sha256, target_system, target_ref, status, step_key,
                output, error, created_at, completed_at, flow_id, run_id)
            SELECT 'd365', 'doc-' || g, '1', 'INV-' || lpad(g::text, 7, '0') || '.pdf',
                   'application/pdf', 40000 + g % 200000,
                   md5(g::text) || md5((g + 1)::text), 'otcs', (100000 + g)::text,
                   'done', 'upload', NULL, '', created_at + interval '500 ms',
                   created_at + interval '800 ms', flow_id, id
            FROM bench_ids WHERE status = 'succeeded'
            """
        )
        cursor.execute(
            """
            UPDATE integrations_flowrun r
            SET created_at = now() - make_interval(days => %s) * random(),
                started_at = NULL
            FROM integrations_reviewtask t WHERE t.run_id = r.id
            """,
            [TASK_SPAN_DAYS],
        )
        cursor.execute(
            "UPDATE integrations_flowrun SET started_at = created_at "
            "WHERE started_at IS NULL"
        )
        cursor.execute("DROP TABLE bench_ids, bench_runs")
    return {
        "flows": FLOWS,
        "runs": count,
        "step_runs": count * 2,
        "span_days": RUN_SPAN_DAYS,
        "seconds": round(time.perf_counter() - started, 1),
    }


def vacuum(url: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return round(time.perf_counter() - started, 1)


def table_sizes(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            SELECT relname, n_live_tup, pg_total_relation_size(relid)
            FROM pg_stat_user_tables
            WHERE relname IN ('integrations_flowrun', 'integrations_steprun',
                              'integrations_transfer', 'integrations_reviewtask',
                              'audit_auditevent')
            ORDER BY relname
            """
        ).fetchall()
    return {
        name: {"rows": rows_, "total_mb": round(size / 2**20)}
        for name, rows_, size in rows
    }


# --- Pages -----------------------------------------------------------------------


def scenarios() -> dict[str, tuple[str, str]]:
    """name: (who signs in, the address). Ada is an integration admin (every
    page), Rita a reviewer in two of the six queues. An address ending in
    ``?uncached`` is requested with an empty cache each time."""
    from integrations.models import Flow, FlowRun, ReviewTask

    newest = FlowRun.objects.filter(status="succeeded").order_by("-pk").first()
    oldest = FlowRun.objects.filter(status="failed").order_by("pk").first()
    task_run = ReviewTask.objects.order_by("-pk").values_list("run_id", flat=True)[0]
    flow = Flow.objects.order_by("pk").first()
    middle = f"INV-{FlowRun.objects.count() // 2:07d}"
    return {
        "dashboard": ("ada", "/"),
        # Every request counts the 14 days again (the earlier days are
        # otherwise kept five minutes): what the first view after that sees.
        "dashboard, nothing cached": ("ada", "/?uncached"),
        "runs list": ("ada", "/runs/"),
        "runs list, needs review": ("ada", "/runs/?status=review"),
        "runs list, one flow": ("ada", f"/runs/?flow={flow.pk}"),
        "runs list, search": ("ada", f"/runs/?q={middle}"),
        "runs list, page 100": ("ada", "/runs/?page=100"),
        "run detail, newest": ("ada", f"/runs/{newest.pk}/"),
        "run detail, oldest failed": ("ada", f"/runs/{oldest.pk}/"),
        "run detail, with a task": ("ada", f"/runs/{task_run}/"),
        "task inbox": ("rita", "/tasks/"),
        "task inbox, admin all": ("ada", "/tasks/?tab=all"),
        "audit search": ("ada", "/audit/"),
        "audit search, actor": ("ada", "/audit/?actor=anna.meyer"),
        "audit search, departed actor": ("ada", "/audit/?actor=hugo.novak"),
        "audit search, event type": ("ada", "/audit/?event_type=approval.rejected"),
        "audit search, business object": (
            "ada",
            "/audit/?business_object=invoice:INV-00421",
        ),
    }


def time_pages(requests: int, warmup: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    plan = scenarios()
    clients = {}
    for username in {who for who, _ in plan.values()}:
        clients[username] = Client()
        clients[username].force_login(get_user_model().objects.get(username=username))
    results = {}
    for name, (username, url) in plan.items():
        row = inbox_bench.time_page(
            clients[username],
            url,
            requests,
            warmup,
            before=cache.clear if url.endswith("?uncached") else None,
        )
        response = row.pop("response")
        row |= {
            "user": username,
            "bytes": len(response.content),
            "pass": row["p95_ms"] <= TARGET_MS,
        }
        results[name] = row
        log(
            f"  {name}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
            f"{row['queries']} queries"
        )
    return results


def summary(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One verdict per page, in the suite's shape."""
    return {
        f"{name} p95_ms".replace(" ", "_").replace(",", ""): {
            "value": row["p95_ms"],
            "target": f"<= {TARGET_MS}",
            "queries": row["queries"],
            "pass": row["pass"],
        }
        for name, row in results.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000, help="runs in all")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=30, help="per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--reuse", action="store_true", help="time a database kept by --keep"
    )
    args = parser.parse_args()
    if args.runs < args.tasks:
        parser.error("--runs counts every run, the tasks' runs too")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    url = os.environ.get("BENCH_PG_URL", DEFAULT_URL)
    name = urlsplit(url).path.lstrip("/")
    if not args.reuse:
        flow_bench.fresh_database(url)
    started_at = datetime.now(UTC)
    data: dict[str, Any] = {}
    try:
        inbox_bench.setup_django(url)
        from django.core.management import call_command

        if not args.reuse:
            log(f"database {name}: migrate")
            call_command("migrate", interactive=False, verbosity=0)
            log(f"seed {args.tasks:,} tasks")
            data["tasks"] = inbox_bench.seed(args.tasks, random.Random(args.seed))  # noqa: S311
            log(f"seed {args.runs - args.tasks:,} more runs")
            data["runs"] = seed_runs(args.runs - args.tasks)
            log(f"seed {args.events:,} audit events")
            data["audit"] = audit_data.seed(
                url, audit_data.EventFactory(args.events, args.seed), args.events
            )
            log("vacuum analyze")
            data["vacuum_s"] = vacuum(url)
        data["tables"] = table_sizes(url)
        log("time the pages")
        results = time_pages(args.requests, args.warmup)
        host = flow_bench.machine()
        source = flow_bench.source_state()
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            flow_bench.drop_database(url)
            log(f"dropped {name}")
    report = {
        "benchmark": "pages at 1M runs, 100k tasks, 10M audit events",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "parameters": vars(args),
        "machine": host,
        "source": source,
        "target": f"server p95 <= {TARGET_MS} ms per page",
        "data": data,
        "results": results,
        "summary": summary(results),
        "pass": all(row["pass"] for row in results.values()),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"pages-{started_at:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(inbox_bench.table(results, "page", 32, f"target p95 <= {TARGET_MS} ms"))
    log(f"written to {path.relative_to(ROOT)}")
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
