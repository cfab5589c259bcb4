"""The Exstream connector, signed in to the emulator of the live server."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connectors.auth import forget_tokens
from connectors.base import ActionContext, Document
from connectors.exstream.connector import ExstreamConnector
from connectors.exstream.emulator.state import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
)

WEBHOOK_SECRET = "exstream-test-signing-secret"


@pytest.fixture
def sandbox_url(live_server, settings) -> str:
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.XCONNECTOR_SANDBOX_EXSTREAM_JOB_SECONDS = 0.5
    forget_tokens()  # a token cached by an earlier test died with its database
    yield f"{live_server.url}/sandbox/exstream/"
    forget_tokens()


def make_connector(sandbox_url: str, **overrides: Any) -> ExstreamConnector:
    values = {
        "base_url": sandbox_url,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "domain": "sandbox",
        "driver_data_source": "Customers",
        "wait_seconds": 10,
        "poll_seconds": 0.1,
        "webhook_secret": WEBHOOK_SECRET,
        **overrides,
    }
    return ExstreamConnector(ExstreamConnector.Config.model_validate(values))


@pytest.fixture
def exstream(sandbox_url) -> ExstreamConnector:
    return make_connector(sandbox_url)


def run(
    connector: ExstreamConnector, name: str, values: dict, key: str = ""
) -> tuple[dict, list[Document]]:
    """One action's output and documents, under the idempotency key ``key``."""
    return connector.run_action(name, values, ActionContext(idempotency_key=key))


def control(sandbox_url: str, method: str, path: str, body: Any = None) -> dict:
    """Call one of the emulator's sandbox-only controls (_sandbox/...)."""
    answer = requests.request(method, f"{sandbox_url}{path}", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()
