"""A 1 GiB document through a flow: time and memory.

    .venv/bin/python bench/big_document_bench.py [--bytes 1073741824] [--keep]

or ``make bench-big-document`` (part of ``make bench-full``). The flow of
flow_bench.py (webhook, the document downloaded from the orders API
emulator, uploaded into the Content Server emulator with a category value,
recorded in the transfer ledger and audited), with a document of
``--bytes`` bytes, on PostgreSQL (BENCH_PG_URL, default
``postgres://postgres@127.0.0.1:5432/xcx_big_document_bench``, created and
dropped) and Redis (BENCH_REDIS_URL, default ``redis://127.0.0.1:6379/9``),
gunicorn (which also serves the emulators) and one Celery worker process.

First a small document goes through the same flow, so that every module is
loaded and every connection made; then the peak resident memory (VmHWM) of
every process is read, the big document's webhook is posted and the
benchmark waits for the run to end. Reported: the time from the webhook to
the finished run and each step's time, and the growth of peak memory of
the worker process (the flow's side: download to disk, upload from disk)
and of the web server (which is the emulators here). The run must have
succeeded and its transfer must hold the document's size and SHA-256, or
the benchmark fails. Target: peak memory growth < 64 MB.

It writes bench/results/big-document-<UTC>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flow_bench import (
    HOOK_SECRET,
    ROOT,
    BenchFailure,
    Services,
    bench_env,
    create_flow,
    event,
    flush_redis,
    free_port,
    fresh_database,
    log,
    machine,
    measure,
    report_head,
    setup_django,
    wait_healthy,
    write_report,
)

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/xcx_big_document_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
GIB = 1 << 30
TARGET_MB = 64


def peak_kb(root_pid: int) -> dict[int, int]:
    """VmHWM of every process in ``root_pid``'s process group, by pid."""
    peaks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            group = int(stat[stat.rindex(")") + 2 :].split()[2])
            if group != root_pid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[int(entry.name)] = int(line.split()[1])
        except (OSError, ValueError):
            continue
    return peaks


def growth_mb(before: dict[int, int], after: dict[int, int]) -> float:
    """The largest growth of one process's peak (a new process counts whole)."""
    grown = [after[pid] - before.get(pid, 0) for pid in after]
    return round(max(grown, default=0) / 1024, 1)


def expected_sha256(name: str, size: int) -> str:
    """What the orders API emulator serves for ``name`` at ``size`` bytes."""
    line = f"Order confirmation {name}\n".encode()
    block = line * (65536 // len(line) + 1)
    digest = hashlib.sha256()
    left = size
    while left > 0:
        piece = block[: min(left, 65536)]
        left -= len(piece)
        digest.update(piece)
    return digest.hexdigest()


def post(hook_url: str, number: int, size: int) -> tuple[int, float]:
    started = time.time()
    answer = requests.post(
        hook_url,
        json=event(number) | {"bytes": size},
        headers={"X-Webhook-Secret": HOOK_SECRET},
        timeout=60,
    )
    if answer.status_code != 202:
        raise BenchFailure(f"webhook answered {answer.status_code}: {answer.text}")
    return int(answer.json()["run_id"]), started


def wait_for(run_id: int, services: Services, timeout: float) -> Any:
    from integrations.models import FlowRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.check_alive()
        run = FlowRun.objects.get(pk=run_id)
        if run.status in ("succeeded", "failed", "needs_review", "cancelled"):
            return run
        time.sleep(0.25)
    raise BenchFailure(f"run {run_id} did not end within {timeout} s")


def run(args: argparse.Namespace, env: dict[str, str], var_dir: Path) -> dict:
    from django.core.management import call_command

    from integrations.models import StepRun, Transfer

    call_command("migrate", interactive=False, verbosity=0)
    report: dict[str, Any] = {"machine": machine()}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    made = create_flow(url, 1, sized=True)
    python = sys.executable
    web = [python, "-m", "gunicorn", "xconnector.wsgi", "--bind", f"127.0.0.1:{port}"]
    web += ["--workers", "2", "--threads", "4", "--timeout", "600"]
    web += ["--log-level", "warning", "--no-control-socket"]
    queue = env["XCONNECTOR_RUN_QUEUE"]
    worker = [python, "-m", "celery", "-A", "xconnector", "worker", "--pool"]
    worker += ["threads", "--concurrency", "2", "--queues", queue]
    worker += ["--hostname", f"{queue}@%h", "--without-mingle", "--without-gossip"]
    worker += ["--loglevel", "WARNING"]
    services = Services(env, var_dir)
    hook_url = f"{url}/hooks/flows/{made['flow'].hook_token}/"
    try:
        services.start("web server", web)
        services.start("worker", worker)
        wait_healthy(services, url)
        # The same flow with a small document first: modules, sessions, folder.
        log("warm-up: a small document through the flow")
        warm_id, _ = post(hook_url, 0, 10_000)
        if wait_for(warm_id, services, 120).status != "succeeded":
            raise BenchFailure(f"the warm-up run {warm_id} did not succeed")
        groups = services.groups()
        before = {name: peak_kb(pid) for name, pid in groups.items()}
        log(f"{args.bytes:,} bytes through the flow")
        run_id, started = post(hook_url, 1, args.bytes)
        finished = wait_for(run_id, services, 1800)
        after = {name: peak_kb(pid) for name, pid in groups.items()}
    finally:
        services.stop()
    if finished.status != "succeeded":
        raise BenchFailure(f"run {run_id} ended {finished.status}: {finished.error}")
    transfer = Transfer.objects.get(run_id=run_id)
    expected = expected_sha256(event(1)["document"], args.bytes)
    if transfer.size != args.bytes or transfer.sha256 != expected:
        raise BenchFailure(
            f"the transfer holds {transfer.size} bytes, SHA-256 {transfer.sha256}; "
            f"expected {args.bytes} bytes, {expected}"
        )
    seconds = finished.finished_at.timestamp() - started
    steps = {
        step.step_key: round(step.duration_ms / 1000, 2)
        for step in StepRun.objects.filter(run_id=run_id, status="succeeded")
    }
    worker_growth = growth_mb(before["worker"], after["worker"])
    report["document"] = {
        "bytes": args.bytes,
        "sha256": expected,
        "webhook_to_finished_s": round(seconds, 2),
        "mib_per_s": round(args.bytes / (1 << 20) / seconds, 1),
        "steps_s": steps,
        "worker_peak_growth_mb": worker_growth,
        "worker_peak_mb": round(max(after["worker"].values()) / 1024, 1),
        "web_server_and_emulators_peak_growth_mb": growth_mb(
            before["web server"], after["web server"]
        ),
    }
    report["summary"] = {
        "worker_peak_growth_mb": {
            "value": worker_growth,
            "target": f"< {TARGET_MB}",
            "pass": worker_growth < TARGET_MB,
        },
        "seconds": {"value": round(seconds, 2), "target": "(figure)"},
    }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=GIB, help="document size")
    parser.add_argument("--keep", action="store_true", help="keep database, var dir")
    args = parser.parse_args(argv)
    if args.bytes < 1:
        parser.error("--bytes must be at least 1")
    args.pg_url = os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL)
    args.redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started_at = datetime.now(UTC)
    var_dir = Path(tempfile.mkdtemp(prefix="big-document-bench-"))
    env = bench_env(args, var_dir)
    env["XCONNECTOR_MAX_DOCUMENT_BYTES"] = str(max(2 * args.bytes, GIB))
    os.environ.update(env)
    fresh_database(args.pg_url)
    flush_redis(args.redis_url)
    setup_django()
    report = report_head("a big document through a flow", started_at)
    report["parameters"] = {"bytes": args.bytes, "keep": args.keep} | {
        "database": urlsplit(args.pg_url).path.lstrip("/")
    }
    report["target"] = f"peak memory growth of the worker < {TARGET_MB} MB"
    failure = measure(report, args, var_dir, lambda: run(args, env, var_dir))
    report["failure"] = failure or None
    write_report(report, "big-document", started_at)
    passed = not failure and report["summary"]["worker_peak_growth_mb"]["pass"]
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
