"""Benchmark: a 1 GiB document up to and back from the Content Server emulator.

    .venv/bin/python bench/otcs_transfer_bench.py [--size BYTES] [--keep]

It migrates a throw-away var directory (SQLite, blobs), starts the emulator
in a real server process (``manage.py runserver --noreload`` on a free port,
the same settings), then in this process:

1. uploads a generated document of ``--size`` bytes (default 1 GiB;
   pseudo-random chunks from a generator, never whole in memory) through
   ``ContentServerConnector.run_action("upload_document", ...)``;
2. downloads it back through the ``download`` action, consuming the stream
   and hashing it, and checks that the SHA-256 equals the uploaded one.

It measures wall times and throughput, the growth of this process's peak
RSS (VmHWM from /proc/self/status, after set-up versus after the transfer)
and the server process's peak RSS (VmHWM of its pid). It prints one JSON
document and writes it to bench/results/otcs-transfer-<UTC>.json. The var
directory is removed afterwards unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GIB = 1 << 30
CHUNK = 1 << 20
TARGET_GROWTH_MB = 64
USERNAME = "admin"
PASSWORD = "sandbox-admin"  # noqa: S105 - the emulator's public demo credential


def status_kb(field: str, pid: int | str = "self") -> int:
    """One ``kB`` field of /proc/<pid>/status (e.g. VmHWM, VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found in /proc/{pid}/status")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def random_chunks(size: int, seed: int = 1) -> Iterator[bytes]:
    """``size`` pseudo-random bytes, ``CHUNK`` at a time (deterministic)."""
    generator = random.Random(seed)  # noqa: S311 - test data, not security
    left = size
    while left > 0:
        step = min(CHUNK, left)
        yield generator.randbytes(step)
        left -= step


def expected_sha256(size: int) -> str:
    """The SHA-256 of ``random_chunks(size)``, computed apart."""
    digest = hashlib.sha256()
    for chunk in random_chunks(size):
        digest.update(chunk)
    return digest.hexdigest()


def server_env(var_dir: Path, size: int) -> dict[str, str]:
    """The environment of both processes: the same settings and var dir."""
    env = dict(os.environ)
    env["XCONNECTOR_VAR_DIR"] = str(var_dir)
    env["XCONNECTOR_SANDBOX"] = "1"
    env.pop("DATABASE_URL", None)  # the throw-away SQLite file in var_dir
    limit = max(size * 2, 512 * 1024 * 1024)
    env["XCONNECTOR_MAX_DOCUMENT_BYTES"] = str(limit)
    return env


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """Migrate, then run the emulator in ``runserver --noreload``."""
    python = sys.executable
    subprocess.run(  # noqa: S603 - fixed argv
        [python, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    with log.open("wb") as sink:
        server = subprocess.Popen(  # noqa: S603 - fixed argv
            [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"The server stopped: see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("The server did not start within 60 s.")


def transfer(base_url: str, size: int, server_pid: int) -> dict[str, Any]:
    """Upload and download through the connector; figures as a dict."""
    import django

    django.setup()
    from connectors.base import ActionContext, Document
    from connectors.otcs.connector import ContentServerConfig, ContentServerConnector

    connector = ContentServerConnector(
        ContentServerConfig(base_url=base_url, username=USERNAME, password=PASSWORD)
    )
    connector.check()  # sign in and import everything before the baseline
    baseline_kb = status_kb("VmHWM")
    server_before_kb = status_kb("VmHWM", server_pid)

    document = Document(
        "bench-1gib.bin", random_chunks(size), size=size, max_bytes=size * 2
    )
    started = time.perf_counter()
    output, _ = connector.run_action(
        "upload_document",
        {"parent_id": 2000, "folder_path": "bench", "source_key": f"bench-{size}"},
        ActionContext(idempotency_key="otcs-transfer-bench", documents=[document]),
    )
    upload_s = time.perf_counter() - started
    after_upload_kb = status_kb("VmHWM")

    started = time.perf_counter()
    result, documents = connector.run_action(
        "download", {"node_id": output["node_id"]}, ActionContext()
    )
    digest = hashlib.sha256()
    received = 0
    for chunk in documents[0]:
        digest.update(chunk)
        received += len(chunk)
    download_s = time.perf_counter() - started
    peak_kb = status_kb("VmHWM")
    server_peak_kb = status_kb("VmHWM", server_pid)
    mib = size / (1 << 20)
    return {
        "node_id": output["node_id"],
        "uploaded_sha256": output["sha256"],
        "uploaded_size": output["size"],
        "downloaded_sha256": digest.hexdigest(),
        "downloaded_size": received,
        "download_action_sha256": result["sha256"],
        "upload_s": round(upload_s, 2),
        "download_s": round(download_s, 2),
        "upload_mib_per_s": round(mib / upload_s, 1),
        "download_mib_per_s": round(mib / download_s, 1),
        "bench_rss_baseline_mb": round(baseline_kb / 1024, 1),
        "bench_rss_peak_after_upload_mb": round(after_upload_kb / 1024, 1),
        "bench_rss_peak_mb": round(peak_kb / 1024, 1),
        "bench_rss_growth_mb": round((peak_kb - baseline_kb) / 1024, 1),
        "server_rss_peak_before_mb": round(server_before_kb / 1024, 1),
        "server_rss_peak_mb": round(server_peak_kb / 1024, 1),
        "server_rss_growth_mb": round((server_peak_kb - server_before_kb) / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every check and the target pass."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=GIB, help="bytes (1 GiB)")
    parser.add_argument("--keep", action="store_true", help="keep the var dir")
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1 byte")

    var_dir = Path(tempfile.mkdtemp(prefix="otcs-bench-"))
    env = server_env(var_dir, args.size)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xconnector.settings")
    sys.path.insert(0, str(ROOT))
    port = free_port()
    server = start_server(env, port, var_dir / "server.log")
    try:
        figures = transfer(
            f"http://127.0.0.1:{port}/sandbox/otcs/api/", args.size, server.pid
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)

    expected = expected_sha256(args.size)
    checks = {
        "uploaded_sha256_matches_generator": figures["uploaded_sha256"] == expected,
        "downloaded_sha256_matches": figures["downloaded_sha256"] == expected,
        "downloaded_size_matches": figures["downloaded_size"] == args.size,
        "bench_rss_growth_below_target": figures["bench_rss_growth_mb"]
        < TARGET_GROWTH_MB,
    }
    report = {
        "benchmark": "otcs-transfer",
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "size_bytes": args.size,
        "expected_sha256": expected,
        **figures,
        "target": {"bench_rss_growth_mb_below": TARGET_GROWTH_MB},
        "checks": checks,
        "passed": all(checks.values()),
        "server": "manage.py runserver --noreload (the emulator, SQLite)",
        "var_dir": str(var_dir) if args.keep else None,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "notes": (
            "bench_rss_growth_mb = peak RSS (VmHWM) after upload and download "
            "minus VmHWM after Django set-up and sign-in; server_rss_* is the "
            "VmHWM of the runserver process."
        ),
    }
    text = json.dumps(report, indent=2)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"otcs-transfer-{stamp}.json").write_text(text + "\n")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
