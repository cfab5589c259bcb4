"""The contract test's connection to the Exstream emulator."""

from __future__ import annotations

from typing import Any

from connectors.exstream.emulator.state import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
)


def exstream_case(live_server: Any, **_: Any) -> tuple[dict, dict]:
    """(settings, secrets) of a connection to the live server's emulator."""
    return (
        {
            "base_url": f"{live_server.url}/sandbox/exstream/",
            "client_id": SANDBOX_CLIENT_ID,
            "domain": "sandbox",
        },
        {"client_secret": SANDBOX_CLIENT_SECRET},
    )
