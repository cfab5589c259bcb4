"""Benchmark of the reviewers' inbox (/tasks/) on PostgreSQL.

    .venv/bin/python bench/inbox_bench.py [--tasks 100000] [--runs 30] [--keep]

or ``make bench-inbox``. It (re-)creates the database named by BENCH_PG_URL
(default ``postgres://postgres@127.0.0.1:5432/xcx_inbox_bench``; created
through the ``postgres`` database of the same server), migrates it, then:

1. creates ``--tasks`` review tasks with one run each (``bulk_create``), over
   a few flows: 6 queues, every kind, three priorities, due dates from five
   days ago to five days ahead, 20% no longer pending (resolved, rejected,
   dismissed); a reviewer in 2 of the 6 queues has a few hundred claimed;
2. times the inbox page (Django test client, signed in, the whole request:
   middleware, queries, template) as that reviewer for the default tab, a
   filter by kind, overdue only, sort by priority and page 20, and as an
   integration admin for all queues, all tasks and a search, plus the
   per-queue counts the inbox refreshes: p50/p95 over ``--runs`` requests
   each, after 3 warm-up requests;
3. records the SQL of one request of each and its EXPLAIN ANALYZE.

The table is vacuumed after seeding, as autovacuum keeps a table in use.

It prints a table, writes bench/results/inbox-<UTC timestamp>.json and drops
the database (unless ``--keep``), also when a phase fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/xcx_inbox_bench"
TARGET_MS = 200
QUEUES = ["Reviewer", "Accounts payable", "Legal", "HR", "Sales ops", "Records"]
REVIEWER_QUEUES = ["Reviewer", "Accounts payable"]
KINDS = [
    ("failed_transfer", 35),
    ("incomplete_metadata", 25),
    ("missing_document", 20),
    ("approval", 15),
    ("partner_exception", 3),
    ("reconciliation", 2),
]
SYSTEMS = ["otcs", "d365", "sap", "exstream", "tradinggrid", "salesforce"]
# name: (who signs in, the page). Rita reviews 2 of the 6 queues; Ada is an
# integration admin, who sees every queue and the "All" tab.
SCENARIOS = {
    "default tab": ("rita", "/tasks/"),
    "filter by kind": ("rita", "/tasks/?tab=queues&kind=incomplete_metadata"),
    "overdue only": ("rita", "/tasks/?tab=queues&overdue=1"),
    "sort by priority": ("rita", "/tasks/?tab=queues&sort=priority"),
    "page 20": ("rita", "/tasks/?tab=queues&page=20"),
    "admin, all queues": ("ada", "/tasks/?tab=queues"),
    "admin, all tasks": ("ada", "/tasks/?tab=all"),
    "admin, search": ("ada", "/tasks/?tab=all&q=invoice%3A00042"),
    "queue counts (htmx)": ("rita", "/tasks/counts/"),
}


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xconnector.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("XCONNECTOR_AUDIT_SIGNING_KEY", "bench-signing-key")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 30 runs is the 29th fastest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# --- Data ------------------------------------------------------------------------


def seed(count: int, rng: random.Random) -> dict[str, Any]:
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from integrations import services
    from integrations.models import FlowRun, ReviewTask
    from tests.factories import UserFactory
    from xconnector import roles

    started = time.perf_counter()
    admin = UserFactory(username="ada", role=roles.INTEGRATION_ADMIN)
    reviewer = UserFactory(username="rita", first_name="Rita", role=roles.REVIEWER)
    others = [
        UserFactory(username=f"reviewer{n}", role=roles.REVIEWER) for n in range(10)
    ]
    members: dict[str, list[Any]] = {}
    for index, queue in enumerate(QUEUES):
        group, _ = Group.objects.get_or_create(name=queue)
        if queue in REVIEWER_QUEUES:
            reviewer.groups.add(group)
        members[queue] = others[index::6]
        for other in members[queue]:
            other.groups.add(group)
    step = {
        "key": "note",
        "type": "set",
        "name": "Note the order",
        "variables": [{"name": "order", "expression": "trigger.order"}],
    }
    flows = [
        services.create_flow(
            name, {"trigger": {"type": "manual"}, "steps": [step]}, admin
        )
        for name in (
            "Pay invoices",
            "File contracts",
            "Welcome letters",
            "Supplier onboarding",
        )
    ]
    versions = {flow.pk: flow.versions.order_by("-number").first() for flow in flows}
    now = timezone.now()
    kinds = [kind for kind, _ in KINDS]
    kind_weights = [weight for _, weight in KINDS]
    claimed_by_reviewer = 0
    batch = 5000
    for first in range(0, count, batch):
        size = min(batch, count - first)
        picks = [rng.choice(flows) for _ in range(size)]
        with transaction.atomic():
            runs = FlowRun.objects.bulk_create(
                [
                    FlowRun(
                        flow=flow,
                        version=versions[flow.pk],
                        status="needs_review",
                        trigger_kind="manual",
                        payload={"order": f"A-{first + n}", "amount": n % 9000},
                        context={"steps": {}, "vars": {}, "documents": {}},
                        started_by=admin,
                    )
                    for n, flow in enumerate(picks)
                ]
            )
            tasks = []
            for n, run in enumerate(runs):
                kind = rng.choices(kinds, kind_weights)[0]
                queue = rng.choice(QUEUES)
                done = rng.random() < 0.2
                status = (
                    rng.choice(["resolved", "resolved", "rejected", "dismissed"])
                    if done
                    else ("claimed" if rng.random() < 0.15 else "open")
                )
                assignee = None
                if status == "claimed" or done:
                    assignee = rng.choice(members[queue])
                    if (
                        status == "claimed"
                        and queue in REVIEWER_QUEUES
                        and claimed_by_reviewer < 300
                    ):
                        assignee = reviewer
                        claimed_by_reviewer += 1
                due = now + timedelta(minutes=rng.randint(-5 * 24 * 60, 5 * 24 * 60))
                tasks.append(
                    ReviewTask(
                        kind=kind,
                        status=status,
                        priority=rng.choices([1, 2, 3], [15, 65, 20])[0],
                        run=run,
                        flow_id=run.flow_id,
                        step_key="note",
                        system=rng.choice(SYSTEMS),
                        business_object=f"invoice:{first + n:07d}",
                        queue=queue,
                        assignee=assignee,
                        title=f"{run.flow.name}: “Note the order” needs a look",
                        reason="The other system said no.",
                        needed={"errors": ["The other system said no."]},
                        due_at=due,
                        resolved_at=now if done else None,
                    )
                )
            ReviewTask.objects.bulk_create(tasks)
        log(f"  {first + size:,} tasks")
    # What autovacuum does to a table in use: statistics, and the visibility
    # map that lets the counts per queue read their index alone. Without it
    # a freshly bulk-loaded table is measured, which production never is.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {
        "tasks": count,
        "queues": QUEUES,
        "reviewer_queues": REVIEWER_QUEUES,
        "reviewer_claimed": claimed_by_reviewer,
        "seconds": round(time.perf_counter() - started, 1),
        "visible_pending": ReviewTask.objects.filter(
            queue__in=REVIEWER_QUEUES, status__in=["open", "claimed"]
        ).count(),
    }


# --- Timing ----------------------------------------------------------------------

_INDEX_USE = re.compile(
    r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)"
)


def explain(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from django.db import connection

    plans = []
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if (
                not sql.lstrip().upper().startswith("SELECT")
                or "integrations_" not in sql
            ):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [line for (line,) in cursor.fetchall()]
            text = "\n".join(plan)
            total = re.search(r"Execution Time: ([\d.]+) ms", text)
            plans.append(
                {
                    "sql": sql,
                    "execution_ms": float(total.group(1)) if total else None,
                    "indexes_used": sorted(set(_INDEX_USE.findall(text))),
                    "seq_scan": "Seq Scan" in text,
                    "plan": plan,
                }
            )
    return plans


def time_page(
    client: Any, url: str, runs: int, warmup: int, before: Any = None
) -> dict[str, Any]:
    """p50/p95/max of ``runs`` requests of ``url`` after ``warmup`` ones
    (``before()`` is called ahead of each, untimed), then the queries of one
    more with the EXPLAIN ANALYZE of the slowest; ``response`` is its answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    before = before or (lambda: None)
    for _ in range(warmup):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    durations = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        response = client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    before()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    plans = explain(captured.captured_queries)
    return {
        "url": url,
        "runs": runs,
        "p50_ms": round(percentile(durations, 0.5), 1),
        "p95_ms": round(percentile(durations, 0.95), 1),
        "max_ms": round(max(durations), 1),
        "queries": len(captured.captured_queries),
        "sql_ms": round(sum(float(q["time"]) for q in captured) * 1000, 1),
        "slowest_queries": sorted(plans, key=lambda plan: -(plan["execution_ms"] or 0))[
            :3
        ],
        "response": response,
    }


def time_pages(runs: int, warmup: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    clients = {}
    for username in {who for who, _ in SCENARIOS.values()}:
        clients[username] = Client()
        clients[username].force_login(get_user_model().objects.get(username=username))
    results = {}
    for name, (username, url) in SCENARIOS.items():
        row = time_page(clients[username], url, runs, warmup)
        response = row.pop("response")
        row |= {
            "user": username,
            "rows_on_page": response.content.count(b'<tr data-task="'),
            "pass": row["p95_ms"] < TARGET_MS,
        }
        results[name] = row
        log(f"  {name}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms")
    return results


def table(
    results: dict[str, Any],
    first: str = "scenario",
    width: int = 20,
    target: str = f"target p95 < {TARGET_MS} ms",
) -> str:
    """One line per scenario; the rows on the page when they were counted."""
    rows = all("rows_on_page" in row for row in results.values())
    lines = [
        f"{first:<{width}} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'queries':>8} {'SQL ms':>8}{' rows' if rows else ''}  {target}",
    ]
    for name, row in results.items():
        lines.append(
            f"{name:<{width}} {row['p50_ms']:>8} {row['p95_ms']:>8} "
            f"{row['max_ms']:>8} {row['queries']:>8} {row['sql_ms']:>8}"
            + (f" {row['rows_on_page']:>4}" if rows else "")
            + f"  {'pass' if row['pass'] else 'MISS'}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    url = os.environ.get("BENCH_PG_URL", DEFAULT_URL)
    name = urlsplit(url).path.lstrip("/")
    admin_url = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    started_at = datetime.now(UTC)
    try:
        setup_django(url)
        from django.core.management import call_command

        log(f"database {name}: migrate")
        call_command("migrate", interactive=False, verbosity=0)
        log(f"seed {args.tasks:,} tasks")
        data = seed(args.tasks, random.Random(args.seed))  # noqa: S311
        log("time the inbox")
        results = time_pages(args.runs, args.warmup)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            log(f"dropped {name}")
    report = {
        "benchmark": "reviewers' inbox on PostgreSQL",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "parameters": vars(args),
        "target": f"p95 < {TARGET_MS} ms per scenario",
        "data": data,
        "results": results,
        "pass": all(row["pass"] for row in results.values()),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"inbox-{started_at:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(table(results))
    log(f"written to {path.relative_to(ROOT)}")
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
