"""msal (through the connector's Entra ID scheme) against the emulator behind a
TLS-terminating proxy, as the demo would run it."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from connectors.auth import EntraClientCredentials
from connectors.http import HttpClient
from tests.connectors.http_stub import self_signed_certificate

SKIPPED = {
    "content-length",
    "connection",
    "server",
    "content-encoding",
    "transfer-encoding",
}

pytestmark = [
    pytest.mark.urls("tests.connectors.dynamics.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


class TlsProxy:
    """https://127.0.0.1:<port>/ -> the live server, with X-Forwarded-*."""

    def __init__(self, upstream: str, certificate: str, key: str) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                headers["X-Forwarded-Proto"] = "https"
                headers["X-Forwarded-Host"] = f"127.0.0.1:{proxy.port}"
                answer = requests.request(
                    self.command,
                    upstream + self.path,
                    headers=headers,
                    data=self.rfile.read(length),
                    timeout=10,
                    allow_redirects=False,
                )
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in SKIPPED:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PATCH = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        self.url = f"https://127.0.0.1:{self.port}"


@pytest.fixture
def proxy(sandbox, live_server, tmp_path) -> Iterator[tuple[TlsProxy, str]]:
    certificate, key = self_signed_certificate(tmp_path)
    proxy = TlsProxy(live_server.url, str(certificate), str(key))
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    yield proxy, str(certificate)
    proxy.server.shutdown()
    proxy.server.server_close()


def test_msal_discovers_the_tenant_and_signs_in_over_https(proxy):
    # given the connector's Entra ID scheme (msal) pointed at the proxy
    server, certificate = proxy
    scheme = EntraClientCredentials(
        f"{server.url}/sandbox/dynamics/contoso",
        "sandbox-client",
        "sandbox-secret",
        "https://org.crm.dynamics.com/.default",
        verify=certificate,
    )
    client = HttpClient(
        f"{server.url}/sandbox/dynamics/api/data/v9.2/",
        auth=scheme,
        verify=certificate,
    )

    # when
    answer = client.request_json("GET", "accounts(accountnumber='A3')")

    # then
    assert answer["name"] == "Northwind Traders"
    assert answer["@odata.context"].startswith(f"{server.url}/sandbox/dynamics/")
