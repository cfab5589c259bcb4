"""A separate virtual environment holding OpenText's own client, pyxecm.

pyxecm is heavy (pandas, lxml, zeep, OpenTelemetry) and is not a dependency
of the project, so it lives in ``.venv-interop/`` at the project root,
created on first use and reused afterwards. When PyPI cannot be reached the
tests that need it are skipped, unless ``XCONNECTOR_REQUIRE_INTEROP=1``,
which turns that into a failure.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-interop"
PYTHON = VENV / "bin" / "python"
PYXECM = "pyxecm==3.6.2"
# pyxecm 3.6.2's requirements less the OpenTelemetry exporter and
# instrumentations, which its OTCS class does not import (it needs only
# opentelemetry-api). Used when the full requirement set cannot be resolved:
# -requests 0.55b1 and -threading >=0.55b1 must share one
# opentelemetry-instrumentation version, and an index may not carry a pair.
RUNTIME = [
    "lxml>=6.0.0",
    "opentelemetry-api>=1.34.1",
    "opentelemetry-sdk>=1.34.1",
    "pandas>=2.3.1",
    "requests-toolbelt>=1.0.0",
    "requests>=2.32.4",
    "suds>=1.2.0",
    "websockets>=15.0.1",
    "xmltodict>=0.14.2",
    "zeep>=4.2.0",
]
PIP_SECONDS = 900


class InteropUnavailable(Exception):
    """PyPI could not be reached, so the environment cannot be built."""


def _ready() -> bool:
    if not PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(PYTHON), "-c", "import pyxecm"], capture_output=True, timeout=120
    )
    return probe.returncode == 0


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PYTHON), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=PIP_SECONDS,
    )


def _tail(result: subprocess.CompletedProcess[str], lines: int = 15) -> str:
    kept = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if not line.startswith("WARNING: Location")
    ]
    return "\n".join(kept[-lines:])


@contextmanager
def _locked() -> Iterator[None]:
    """One creator at a time (parallel test runs share the folder)."""
    VENV.mkdir(exist_ok=True)
    with (VENV / "interop.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def create_interop_venv() -> Path:
    """``.venv-interop/bin/python`` with pyxecm importable; built if needed.

    Raises InteropUnavailable when PyPI is unreachable, RuntimeError when
    PyPI answers but the installation fails.
    """
    with _locked():
        if _ready():
            return PYTHON
        if not PYTHON.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(VENV)],
                check=True,
                capture_output=True,
                timeout=300,
            )
        with tempfile.TemporaryDirectory() as scratch:
            fetched = _pip("download", "--no-deps", "--dest", scratch, PYXECM)
        if fetched.returncode != 0:
            raise InteropUnavailable(f"pip could not fetch {PYXECM}:\n{_tail(fetched)}")
        full = _pip("install", PYXECM)
        if full.returncode != 0 or not _ready():
            bare = _pip("install", "--no-deps", PYXECM)
            runtime = _pip("install", *RUNTIME)
            if bare.returncode != 0 or runtime.returncode != 0 or not _ready():
                raise RuntimeError(
                    f"Installing {PYXECM} into {VENV} failed:\n"
                    f"{_tail(full)}\n{_tail(bare)}\n{_tail(runtime)}"
                )
        return PYTHON


@pytest.fixture(scope="session")
def interop_python() -> Path:
    """The interop venv's interpreter (skips when PyPI is out of reach)."""
    try:
        return create_interop_venv()
    except InteropUnavailable as error:
        if os.environ.get("XCONNECTOR_REQUIRE_INTEROP") == "1":
            pytest.fail(f"XCONNECTOR_REQUIRE_INTEROP=1 and {error}")
        pytest.skip(f".venv-interop cannot be created, PyPI unreachable: {error}")
