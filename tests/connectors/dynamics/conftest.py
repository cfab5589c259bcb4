"""The Dynamics 365 connector and raw Web API calls against the emulator of
the live server, plus a small server that catches the emulator's webhooks."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from connectors.auth import forget_tokens
from connectors.base import ActionContext
from connectors.dynamics.connector import DynamicsConnector
from tests.connectors.dynamics.contract import dynamics_case

CONTOSO = "aaaaaaaa-0000-4000-8000-000000000001"
FABRIKAM = "aaaaaaaa-0000-4000-8000-000000000002"
NORTHWIND = "aaaaaaaa-0000-4000-8000-000000000003"
YVONNE = "cccccccc-0000-4000-8000-000000000001"


@pytest.fixture
def sandbox(live_server, settings) -> Iterator[str]:
    """The emulator's root URL, with localhost allowed for the connector."""
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    forget_tokens()
    yield f"{live_server.url}/sandbox/dynamics/"
    forget_tokens()


@pytest.fixture
def api(sandbox) -> str:
    return f"{sandbox}api/data/v9.2/"


@pytest.fixture
def dynamics(sandbox, live_server) -> DynamicsConnector:
    settings, secrets = dynamics_case(live_server)
    return DynamicsConnector(DynamicsConnector.Config.from_parts(settings, secrets))


def sandbox_token(sandbox: str) -> str:
    answer = requests.post(
        f"{sandbox}contoso/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "scope": "https://org.crm.dynamics.com/.default",
        },
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


@pytest.fixture
def web(sandbox, api) -> requests.Session:
    """A plain requests session signed in to the emulator's Web API."""
    session = requests.Session()
    session.headers.update(
        {
            "Authorization": f"Bearer {sandbox_token(sandbox)}",
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
        }
    )
    return session


def inject(sandbox: str, **values: Any) -> None:
    """Queue faults or change token settings through ``_sandbox/faults``."""
    answer = requests.post(f"{sandbox}_sandbox/faults", json=values, timeout=10)
    answer.raise_for_status()


def run(connector: DynamicsConnector, name: str, values: dict, key: str = "") -> dict:
    """One action's output."""
    context = ActionContext(idempotency_key=key)
    return connector.run_action(name, values, context)[0]


# --- Webhooks ----------------------------------------------------------------------


@dataclass
class Caught:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Catcher:
    """An HTTP server that keeps every POST it receives."""

    def __init__(self) -> None:
        self.caught: queue.Queue[Caught] = queue.Queue()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                catcher.caught.put(
                    Caught(
                        parts.path,
                        dict(parse_qsl(parts.query)),
                        {k.lower(): v for k, v in self.headers.items()},
                        self.rfile.read(length),
                    )
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def next(self, timeout: float = 10) -> Caught:
        return self.caught.get(timeout=timeout)


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    catcher = Catcher()
    catcher.thread.start()
    yield catcher
    catcher.server.shutdown()
    catcher.server.server_close()


def register_webhook(
    web: requests.Session,
    api: str,
    url: str,
    *,
    authtype: int = 4,
    authvalue: str = "hook-key",
    message: str = "Create",
    entity: str = "account",
) -> str:
    """A service endpoint and a step, registered as Dataverse admins do."""
    answer = web.post(
        f"{api}serviceendpoints",
        json={
            "name": "xConnector",
            "contract": 8,
            "url": url,
            "authtype": authtype,
            "authvalue": authvalue,
        },
        headers={"Prefer": "return=representation"},
        timeout=10,
    )
    answer.raise_for_status()
    endpoint_id = answer.json()["serviceendpointid"]
    name_filter = f"name eq '{message}'"
    found = web.get(f"{api}sdkmessages", params={"$filter": name_filter}, timeout=10)
    message_id = found.json()["value"][0]["sdkmessageid"]
    entity_filter = (
        f"primaryobjecttypecode eq '{entity}' and _sdkmessageid_value eq {message_id}"
    )
    found = web.get(
        f"{api}sdkmessagefilters", params={"$filter": entity_filter}, timeout=10
    )
    filter_id = found.json()["value"][0]["sdkmessagefilterid"]
    answer = web.post(
        f"{api}sdkmessageprocessingsteps",
        json={
            "name": f"xConnector: {message} of {entity}",
            "stage": 40,
            "mode": 1,
            "eventhandler_serviceendpoint@odata.bind": (
                f"/serviceendpoints({endpoint_id})"
            ),
            "sdkmessageid@odata.bind": f"/sdkmessages({message_id})",
            "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({filter_id})",
        },
        timeout=10,
    )
    answer.raise_for_status()
    return endpoint_id
