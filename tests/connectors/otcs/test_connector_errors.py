"""How Content Server's failures reach the flow engine."""

from __future__ import annotations

import pytest
import requests

from connectors.base import ActionContext
from connectors.errors import PermanentError, TransientError
from connectors.otcs.client import NodeNotFoundError
from connectors.otcs.connector import ContentServerConnector

pytestmark = [
    pytest.mark.urls("tests.connectors.otcs.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def base_url(live_server, settings) -> str:
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    return f"{live_server.url}/sandbox/otcs/api/"


@pytest.fixture
def otcs(base_url) -> ContentServerConnector:
    config = ContentServerConnector.Config(
        base_url=base_url, username="admin", password="sandbox-admin"
    )
    return ContentServerConnector(config)


def inject(base_url: str, status: int, count: int = 1) -> None:
    """Queue faults with the emulator's sandbox-only control endpoint."""
    answer = requests.post(
        f"{base_url}v1/_sandbox/faults",
        data={"status": status, "count": count},
        timeout=10,
    )
    answer.raise_for_status()


def get_node(otcs: ContentServerConnector, node_id: int) -> dict:
    return otcs.run_action("get_node", {"node_id": node_id}, ActionContext())[0]


def test_an_unknown_node_is_a_permanent_error_naming_it(otcs):
    # when
    with pytest.raises(NodeNotFoundError) as raised:
        get_node(otcs, 987654)

    # then
    assert isinstance(raised.value, PermanentError)
    assert not raised.value.retryable
    assert raised.value.message == (
        "Content Server could not find node 987654: check the node id, and "
        "that the connection's user may see it."
    )
    assert raised.value.status == 400


def test_downloading_an_unknown_node_is_a_permanent_error(otcs):
    # when
    with pytest.raises(NodeNotFoundError) as raised:
        otcs.run_action("download", {"node_id": 987654}, ActionContext())

    # then
    assert raised.value.node_id == 987654


@pytest.mark.parametrize("status", [500, 503])
def test_server_failures_are_transient(otcs, base_url, status):
    # given a signed-in connector and a failing server
    otcs.client.authenticate()
    inject(base_url, status)

    # when
    with pytest.raises(TransientError) as raised:
        get_node(otcs, 2000)

    # then
    assert raised.value.status == status
    assert raised.value.retryable
    # and the next call works again
    assert get_node(otcs, 2000)["id"] == 2000


def test_a_503_passes_on_retry_after(otcs, base_url):
    # given
    otcs.client.authenticate()
    inject(base_url, 503)

    # when
    with pytest.raises(TransientError) as raised:
        get_node(otcs, 2000)

    # then
    assert raised.value.retry_after == 1
    assert raised.value.message == (
        "Content Server is temporarily unavailable (HTTP 503). It asked to wait "
        "1 seconds."
    )
