"""The benchmark suite: every figure in one JSON document.

    .venv/bin/python bench/suite.py           # make bench      (about 10 min)
    .venv/bin/python bench/suite.py --full    # make bench-full (about 1 h)

Each part is one of the benchmarks in this folder, run as its own process
on PostgreSQL + Redis (each creates and drops its own database); the suite
collects the report each part writes under bench/results/ and prints one
document with the machine, the versions, every part's figures and every
target with its verdict. It writes it to bench/results/bench-<UTC>.json.

``make bench``:
  * intake and the common workflow shape at concurrency 8 and 32, one
    worker process (shape_bench.py);
  * scaling: the shape at concurrency 8 with 2 and 4 worker processes;
  * end to end, webhook to a document uploaded into the Content Server
    emulator, one worker, and the overhead against a plain script
    (flow_bench.py).

``make bench-full`` adds the long runs: a 1 GiB document through the
Content Server connector (otcs_transfer_bench.py) and through a flow
(big_document_bench.py), the reviewers' inbox
with 100,000 tasks (inbox_bench.py), the audit ledger with 10 million
events (audit_bench.py) and the busiest pages with 1 million runs, 100,000
tasks and 10 million audit events (pages_bench.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def part(name: str, prefix: str, argv: list[str]) -> dict[str, Any]:
    """Run one benchmark; its newest report, or why there is none."""
    started = time.time()
    print(f"== {name}: {' '.join(argv)}", file=sys.stderr, flush=True)
    done = subprocess.run(  # noqa: S603 - our own scripts
        [sys.executable, *argv],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    reports = sorted(
        (p for p in RESULTS.glob(f"{prefix}-*.json") if p.stat().st_mtime >= started),
        key=lambda p: p.stat().st_mtime,
    )
    if not reports:
        return {"exit_status": done.returncode, "report": None}
    return {
        "exit_status": done.returncode,
        "report_file": str(reports[-1].relative_to(ROOT)),
        "report": json.loads(reports[-1].read_text()),
        "seconds": round(time.time() - started, 1),
    }


def verdicts(parts: dict[str, Any]) -> dict[str, Any]:
    """Every target of every part with its value and whether it is met.

    The scaling parts are figures, not targets: the targets are set for one
    worker process (a second worker adds its own memory, for one)."""
    lines: dict[str, Any] = {}
    for name, result in parts.items():
        if name.startswith("scaling_"):
            continue
        report = result.get("report") or {}
        for figure, line in (report.get("summary") or {}).items():
            if isinstance(line, dict) and "pass" in line:
                lines[f"{name}.{figure}"] = line
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the long runs too")
    parser.add_argument("--seconds", type=float, default=30, help="per shape phase")
    args = parser.parse_args(argv)
    started_at = datetime.now(UTC)
    seconds = str(args.seconds)
    plan = [
        ("shape", "shape", ["bench/shape_bench.py", "--seconds", seconds]),
        *[
            (
                f"scaling_{workers}_workers",
                "shape",
                [
                    "bench/shape_bench.py",
                    "--seconds",
                    seconds,
                    "--concurrency",
                    "8",
                    "--workers",
                    str(workers),
                ],
            )
            for workers in (2, 4)
        ],
        ("end_to_end", "flow", ["bench/flow_bench.py", "--runs", "1000"]),
    ]
    if args.full:
        plan += [
            ("one_gib_document", "otcs-transfer", ["bench/otcs_transfer_bench.py"]),
            ("one_gib_through_a_flow", "big-document", ["bench/big_document_bench.py"]),
            ("inbox_100k_tasks", "inbox", ["bench/inbox_bench.py"]),
            ("audit_10m_events", "audit", ["bench/audit_bench.py"]),
            ("pages_1m_runs", "pages", ["bench/pages_bench.py"]),
        ]
    parts = {name: part(name, prefix, command) for name, prefix, command in plan}
    scaling = {
        "1": parts["shape"].get("report", {}) or {},
        **{str(w): parts[f"scaling_{w}_workers"].get("report") or {} for w in (2, 4)},
    }
    document = {
        "suite": "full" if args.full else "standard",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": (parts["shape"].get("report") or {}).get("machine"),
        "source": (parts["shape"].get("report") or {}).get("source"),
        "scaling_runs_per_s_at_8": {
            workers: ((report.get("shape") or {}).get("8") or {}).get("runs_per_s")
            for workers, report in scaling.items()
        },
        "targets": verdicts(parts),
        "parts": parts,
    }
    text = json.dumps(document, indent=2, default=str)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{started_at:%Y%m%dT%H%M%SZ}.json"
    path.write_text(text + "\n")
    print(f"written to {path.relative_to(ROOT)}", file=sys.stderr)
    failed = [name for name, line in document["targets"].items() if not line["pass"]]
    for name in failed:
        print(f"target missed: {name} {document['targets'][name]}", file=sys.stderr)
    return 1 if failed or any(p.get("report") is None for p in parts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
