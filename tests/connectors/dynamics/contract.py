"""The shared contract test's connection to the Dataverse emulator."""

from __future__ import annotations

from typing import Any


def dynamics_case(live_server: Any, **_: Any) -> tuple[dict, dict]:
    """Settings and secrets of a connection to the live server's emulator."""
    sandbox = f"{live_server.url}/sandbox/dynamics"
    return (
        {
            "environment_url": sandbox,
            "authority_host": sandbox,
            "tenant": "contoso",
            "client_id": "sandbox-client",
        },
        {"client_secret": "sandbox-secret"},
    )
