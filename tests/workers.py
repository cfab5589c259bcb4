"""Real Celery worker processes for tests, on a queue of their own.

The broker is Redis when ``CELERY_BROKER_URL`` points at it (CI) and the
filesystem transport otherwise; the worker uses the test database. Each
worker runs in a process group of its own, so ``kill()`` takes it down at
once, like a machine that loses power.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_test_database() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


class Worker:
    """``celery worker`` for one private queue; start, kill, start again."""

    def __init__(
        self, *, concurrency: int = 4, pool: str = "threads", **env: Any
    ) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:12]}"
        self.concurrency = concurrency
        self.pool = pool
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url_for_test_database(),
            "XCONNECTOR_RUN_QUEUE": self.queue,
            **{key: str(value) for key, value in env.items()},
        }
        self.process: subprocess.Popen[str] | None = None
        self.log = Path(f"/tmp/{self.queue}.log")

    def start(self) -> Worker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "xconnector",
            "worker",
            "--queues",
            self.queue,
            "--hostname",
            f"{self.queue}-{uuid.uuid4().hex[:4]}@%h",
            "--pool",
            self.pool,
            "--concurrency",
            str(self.concurrency),
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and everything it started."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self.process = None

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""
