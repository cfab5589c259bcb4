"""The Content Server connector, signed in to the emulator of the live server."""

from __future__ import annotations

import pytest

from connectors.base import ActionContext
from connectors.otcs.connector import ContentServerConnector


@pytest.fixture
def otcs(live_server, settings, tmp_path) -> ContentServerConnector:
    settings.VAR_DIR = tmp_path
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    config = ContentServerConnector.Config(
        base_url=f"{live_server.url}/sandbox/otcs/api/",
        username="admin",
        password="sandbox-admin",
    )
    return ContentServerConnector(config)


def run(otcs: ContentServerConnector, name: str, values: dict) -> dict:
    """One action's output, under a fixed idempotency key."""
    return otcs.run_action(name, values, ActionContext(idempotency_key="k"))[0]
