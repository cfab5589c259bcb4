"""Webhook intake and the common workflow-tool benchmark shape.

    .venv/bin/python bench/shape_bench.py [--concurrency 8 32] [--seconds 30]
        [--workers 1] [--keep]

Part of ``make bench`` (see bench/suite.py). Two measurements, each at every
``--concurrency`` (closed loop: that many clients, each sending its next
request when its previous one is done):

* **intake**: clients post webhooks to a flow whose runs are not worked
  (no worker is running); accepted events per second and the answer's
  p50/p95. Every accepted event is a run row in PostgreSQL, checked.
* **shape**: the flow most workflow tools benchmark: a webhook, then one
  step mapping 5 fields (one lower-cased, one arithmetic), then the run is
  finished. Each client posts a webhook and waits until its run is
  finished, then posts the next (one watcher thread polls every client's
  run every 5 ms, so polling takes little of the CPU the system under test
  needs). Reported: completed runs per second, p50/p95 from the request to
  the finished run, and the peak memory (RSS) of all xConnector processes
  together (web server and workers), sampled every 100 ms. Every run must
  have succeeded with its step's output stored, or the benchmark fails.

It runs against PostgreSQL (BENCH_PG_URL, default
``postgres://postgres@127.0.0.1:5432/xcx_shape_bench``, created and dropped)
and Redis (BENCH_REDIS_URL, default ``redis://127.0.0.1:6379/8``, flushed),
with gunicorn and ``--workers`` Celery worker processes on this machine.
It prints its JSON report and writes it to bench/results/shape-<UTC>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flow_bench import (
    HOOK_SECRET,
    ROOT,
    BenchFailure,
    CpuMeter,
    Services,
    bench_env,
    flush_redis,
    free_port,
    fresh_database,
    log,
    machine,
    measure,
    report_head,
    setup_django,
    spread_ms,
    wait_healthy,
    write_report,
)

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/xcx_shape_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
TARGETS = {
    "intake_accepted_per_s": 500,
    "intake_p95_ms": 50,
    "shape_runs_per_s_at_8": 200,
    "shape_p95_ms_at_8": 100,
    "peak_memory_mb": 600,
}
LOWER_IS_BETTER = {"intake_p95_ms", "shape_p95_ms_at_8", "peak_memory_mb"}
FINAL = ("succeeded", "failed", "needs_review", "cancelled")


# --- Set-up -------------------------------------------------------------------


def make_flows(concurrency: int) -> dict[str, Any]:
    """The user, the webhook connection, an intake flow and the shape flow."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from audit.services import Actor
    from connectors import services as connection_services
    from integrations import services
    from xconnector import roles

    user = get_user_model().objects.create_user("bench", "bench@example.com")
    user.groups.add(Group.objects.get(name=roles.INTEGRATION_ADMIN))
    hook = connection_services.create_connection(
        Actor.user(user),
        connector_key="webhook",
        name="Order events",
        settings={
            "verification": "shared_secret_header",
            "header_name": "X-Webhook-Secret",
            "event_id_source": "body:MessageId",
        },
        secrets={"secret": HOOK_SECRET},
    )
    trigger = {"type": "webhook", "connection": hook.pk}
    # One lower-cased field and one arithmetic one, among five.
    mapping = {
        "type": "set",
        "key": "map",
        "variables": [
            {"name": "order", "expression": "trigger.body.order"},
            {"name": "customer", "expression": "$lowercase(trigger.body.customer)"},
            {
                "name": "total",
                "expression": "trigger.body.quantity * trigger.body.price",
            },
            {"name": "currency", "expression": "trigger.body.currency"},
            {"name": "placed_at", "expression": "trigger.body.placed_at"},
        ],
    }
    room = max(10, concurrency * 4)
    intake = services.create_flow(
        "Intake only",
        {"trigger": trigger, "steps": [{**mapping, "key": "noop"}]},
        user,
        activate=True,
        max_concurrent_runs=room,
    )
    shape = services.create_flow(
        "Webhook, map 5 fields, done",
        {"trigger": trigger, "steps": [mapping]},
        user,
        activate=True,
        max_concurrent_runs=room,
    )
    return {"intake": intake, "shape": shape}


def body(number: int) -> bytes:
    return json.dumps(
        {
            "MessageId": f"evt-{number:08d}",
            "order": f"A-{number:08d}",
            "customer": "Contoso LTD",
            "quantity": 3,
            "price": 19.5,
            "currency": "EUR",
            "placed_at": "2026-12-03T08:00:00Z",
        }
    ).encode()


class Counter:
    def __init__(self, start: int) -> None:
        self.value = start
        self.lock = threading.Lock()

    def next(self) -> int:
        with self.lock:
            self.value += 1
            return self.value


class MemorySampler(threading.Thread):
    """The largest sum of RSS over the process groups, sampled every 100 ms."""

    def __init__(self, groups: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.groups = set(groups.values())
        self.peak_kb = 0
        self.stopping = threading.Event()

    def total_kb(self) -> int:
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                if int(stat[stat.rindex(")") + 2 :].split()[2]) not in self.groups:
                    continue
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except (OSError, ValueError):
                continue
        return total

    def run(self) -> None:
        while not self.stopping.is_set():
            self.peak_kb = max(self.peak_kb, self.total_kb())
            time.sleep(0.1)

    def stop(self) -> float:
        self.stopping.set()
        self.join()
        return round(self.peak_kb / 1024, 1)


# --- Measurements ------------------------------------------------------------


def closed_loop(
    url: str, clients: int, seconds: float, numbers: Counter, wait: bool
) -> tuple[list[tuple[int, float, float]], float]:
    """``clients`` threads post webhooks for ``seconds``; each waits for its
    run to finish first when ``wait``. Returns (run id, request start (epoch),
    answer seconds) per request, and the wall seconds."""
    from django.db import connection

    from integrations.models import FlowRun

    deadline = time.monotonic() + seconds
    results: list[tuple[int, float, float]] = []
    lock = threading.Lock()
    waiting: dict[int, threading.Event] = {}
    stop = threading.Event()

    def watcher() -> None:
        """One query every 5 ms for every client's run, not one per client:
        polling must not take the CPU the system under test needs."""
        try:
            while not stop.is_set():
                with lock:
                    pending = list(waiting)
                if pending:
                    done = FlowRun.objects.filter(
                        pk__in=pending, status__in=FINAL
                    ).values_list("pk", flat=True)
                    for run_id in done:
                        with lock:
                            waiting.pop(run_id).set()
                stop.wait(0.005)
        finally:
            connection.close()

    def client() -> None:
        session = requests.Session()
        headers = {"X-Webhook-Secret": HOOK_SECRET, "Content-Type": "application/json"}
        try:
            while time.monotonic() < deadline:
                started = time.time()
                clock = time.perf_counter()
                answer = session.post(
                    url, data=body(numbers.next()), headers=headers, timeout=60
                )
                answered = time.perf_counter() - clock
                if answer.status_code != 202:
                    raise BenchFailure(
                        f"webhook answered {answer.status_code}: {answer.text[:200]}"
                    )
                run_id = int(answer.json()["run_id"])
                if wait:
                    finished = threading.Event()
                    with lock:
                        waiting[run_id] = finished
                    if not finished.wait(120):
                        raise BenchFailure(f"run {run_id} did not finish in 120 s")
                with lock:
                    results.append((run_id, started, answered))
        finally:
            session.close()
            connection.close()

    began = time.monotonic()
    watching = threading.Thread(target=watcher, daemon=True)
    watching.start()
    try:
        with ThreadPoolExecutor(clients) as pool:
            for future in [pool.submit(client) for _ in range(clients)]:
                future.result()
    finally:
        stop.set()
        watching.join()
    return results, time.monotonic() - began


def check_succeeded(run_ids: list[int], with_output: bool) -> None:
    from django.db.models import Count

    from integrations.models import FlowRun, StepRun

    statuses = dict(
        FlowRun.objects.filter(pk__in=run_ids)
        .values_list("status")
        .annotate(Count("pk"))
    )
    if with_output and statuses != {"succeeded": len(run_ids)}:
        raise BenchFailure(f"runs by status: {statuses}")
    if not with_output and sum(statuses.values()) != len(run_ids):
        raise BenchFailure(f"{sum(statuses.values())} run rows for {len(run_ids)}")
    if with_output:
        outputs = StepRun.objects.filter(
            run_id__in=run_ids, step_key="map", status="succeeded"
        )
        sample = outputs.values_list("output", flat=True).first() or {}
        stored = sample.get("total") == 58.5 and sample.get("customer") == (
            "contoso ltd"
        )
        if outputs.count() != len(run_ids) or not stored:
            raise BenchFailure(f"{outputs.count()} mapped steps, e.g. {sample}")


def intake(args: argparse.Namespace, hook: str, numbers: Counter) -> dict[str, Any]:
    figures = {}
    for clients in args.concurrency:
        log(f"intake: {clients} clients for {args.seconds} s")
        answers, wall = closed_loop(hook, clients, args.seconds, numbers, wait=False)
        check_succeeded([run_id for run_id, _, _ in answers], with_output=False)
        figures[str(clients)] = {
            "accepted": len(answers),
            "accepted_per_s": round(len(answers) / wall, 1),
            "answer": spread_ms([seconds for _, _, seconds in answers]),
        }
    return figures


def shape(
    args: argparse.Namespace, hook: str, numbers: Counter, services: Services
) -> dict[str, Any]:
    from integrations.models import FlowRun

    figures = {}
    for clients in args.concurrency:
        log(f"shape: {clients} clients for {args.seconds} s, {args.workers} worker(s)")
        sampler = MemorySampler(services.groups())
        sampler.start()
        meter = CpuMeter(services.groups())
        meter.start()
        answers, wall = closed_loop(hook, clients, args.seconds, numbers, wait=True)
        cpu = meter.stop(max(1, len(answers)))
        peak_mb = sampler.stop()
        run_ids = [run_id for run_id, _, _ in answers]
        check_succeeded(run_ids, with_output=True)
        finished = dict(
            FlowRun.objects.filter(pk__in=run_ids).values_list("pk", "finished_at")
        )
        to_finished = [
            finished[run_id].timestamp() - started for run_id, started, _ in answers
        ]
        figures[str(clients)] = {
            "completed": len(answers),
            "runs_per_s": round(len(answers) / wall, 1),
            "request_to_finished": spread_ms(to_finished),
            "webhook_answer": spread_ms([seconds for _, _, seconds in answers]),
            "peak_memory_mb": peak_mb,
            **cpu,
        }
    return figures


# --- The run ---------------------------------------------------------------------


def command(args: argparse.Namespace, env: dict[str, str], port: int) -> dict:
    python = sys.executable
    web = [python, "-m", "gunicorn", "xconnector.wsgi", "--bind", f"127.0.0.1:{port}"]
    web += ["--workers", str(args.web_workers), "--threads", "8", "--timeout", "120"]
    web += ["--log-level", "warning", "--no-control-socket"]
    queue = env["XCONNECTOR_RUN_QUEUE"]
    worker = [python, "-m", "celery", "-A", "xconnector", "worker", "--pool"]
    worker += ["threads", "--concurrency", str(max(args.concurrency) + 2)]
    worker += ["--queues", queue, "--without-mingle", "--without-gossip"]
    worker += ["--loglevel", "WARNING"]
    return {"web": web, "worker": worker}


def run(args: argparse.Namespace, env: dict[str, str], var_dir: Path) -> dict:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    report: dict[str, Any] = {"machine": machine()}
    flows = make_flows(max(args.concurrency))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = command(args, env, port)
    services = Services(env, var_dir)
    numbers = Counter(0)
    try:
        services.start("web server", argv["web"])
        wait_healthy(services, url)
        hook = f"{url}/hooks/flows/{flows['intake'].hook_token}/"
        report["intake"] = intake(args, hook, numbers)
        for index in range(args.workers):
            queue = env["XCONNECTOR_RUN_QUEUE"]
            name = f"worker {index + 1}"
            services.start(name, [*argv["worker"], "--hostname", f"{queue}-{index}@%h"])
        from integrations.models import FlowRun

        # The intake runs are worked off before the shape is measured.
        deadline = time.monotonic() + 600
        while FlowRun.objects.exclude(status__in=FINAL).exists():
            services.check_alive()
            if time.monotonic() > deadline:
                raise BenchFailure("the intake runs did not finish within 600 s")
            time.sleep(0.5)
        hook = f"{url}/hooks/flows/{flows['shape'].hook_token}/"
        report["shape"] = shape(args, hook, numbers, services)
        report["processes"] = {
            "web": " ".join(argv["web"][1:]),
            "workers": f"{args.workers} x " + " ".join(argv["worker"][1:]),
        }
    except BaseException:
        for name in services.processes:
            if tail := services.tail(name):
                log(f"last lines of the {name} log:\n{tail}")
        raise
    finally:
        services.stop()
    return report


def summary(report: dict[str, Any], concurrency: list[int]) -> dict[str, Any]:
    first = str(min(concurrency))
    lines: dict[str, Any] = {}
    worst = max(report["intake"].values(), key=lambda f: f["answer"]["p95_ms"])
    least = min(report["intake"].values(), key=lambda f: f["accepted_per_s"])
    lines["intake_accepted_per_s"] = least["accepted_per_s"]
    lines["intake_p95_ms"] = worst["answer"]["p95_ms"]
    at = report["shape"].get("8") or report["shape"][first]
    lines["shape_runs_per_s_at_8"] = at["runs_per_s"]
    lines["shape_p95_ms_at_8"] = at["request_to_finished"]["p95_ms"]
    lines["peak_memory_mb"] = max(f["peak_memory_mb"] for f in report["shape"].values())
    return {
        name: {
            "value": value,
            "target": TARGETS[name],
            "pass": value <= TARGETS[name]
            if name in LOWER_IS_BETTER
            else value >= TARGETS[name],
        }
        for name, value in lines.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--output", help="write the report here too")
    args = parser.parse_args(argv)
    args.pg_url = os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL)
    args.redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started_at = datetime.now(UTC)
    var_dir = Path(tempfile.mkdtemp(prefix="shape-bench-"))
    env = bench_env(args, var_dir)
    env["XCONNECTOR_API_RATE"] = "1000000/min"
    os.environ.update(env)
    fresh_database(args.pg_url)
    flush_redis(args.redis_url)
    setup_django()
    report = report_head("webhook intake and the common workflow shape", started_at)
    report["parameters"] = {k: v for k, v in vars(args).items() if k != "pg_url"}
    report["targets"] = TARGETS

    def work() -> dict[str, Any]:
        figures = run(args, env, var_dir)
        return figures | {"summary": summary(figures, args.concurrency)}

    failure = measure(report, args, var_dir, work)
    report["failure"] = failure or None
    write_report(report, "shape", started_at, also=args.output)
    passed = not failure and all(
        line["pass"] for line in report.get("summary", {}).values()
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
