"""The Trading Grid case of the shared connector contract test."""

from __future__ import annotations

from typing import Any


def tradinggrid_case(live_server: Any, **_: Any) -> tuple[dict, dict]:
    """Settings and secrets of a connection to the emulator of the live server."""
    return (
        {
            "base_url": f"{live_server.url}/sandbox/tradinggrid/",
            "company_id": "GC00804444LX",
            "edi_address": "ZZ:DEMOSUPPLIER",
            "consumer_key": "sandbox-consumer",
        },
        {"consumer_secret": "sandbox-secret"},
    )
