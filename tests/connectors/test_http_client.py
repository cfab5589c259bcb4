"""The one HTTP client: timeouts, the SSRF guard, redirects, errors, logging."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connectors.auth import BearerAuth
from connectors.errors import (
    AuthError,
    BlockedAddressError,
    PermanentError,
    TransientError,
)
from connectors.http import (
    HttpClient,
    parse_retry_after,
    redact_headers,
    redact_url,
)
from tests.connectors.http_stub import Reply, StubServer, free_port

ALLOWLIST_HINT = (
    "xConnector only calls it when the host is on the allowlist "
    "(XCONNECTOR_HTTP_ALLOWED_HOSTS)."
)


@pytest.fixture
def server(settings) -> Iterator[StubServer]:
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["127.0.0.1"]
    with StubServer() as running:
        yield running


# --- Calls and timeouts ---------------------------------------------------------------


def test_a_path_is_joined_below_the_base_url(server):
    # given
    server.routes["/api/v1/orders/7"] = Reply(body={"id": 7})
    client = HttpClient(f"{server.url}/api/v1")

    # when
    response = client.request("GET", "/orders/7", params={"expand": "lines"})

    # then
    assert response.json() == {"id": 7}
    assert (server.seen[0].path, server.seen[0].query) == (
        "/api/v1/orders/7",
        {"expand": "lines"},
    )
    assert server.seen[0].headers["user-agent"] == "xConnector"


def test_timeouts_come_from_the_settings_unless_the_client_overrides_them(settings):
    # given
    settings.XCONNECTOR_HTTP_CONNECT_TIMEOUT = 3
    settings.XCONNECTOR_HTTP_READ_TIMEOUT = 30

    # when
    default = HttpClient("https://api.example.com").timeout
    read_only = HttpClient("https://api.example.com", timeout=(None, 2)).timeout
    both = HttpClient("https://api.example.com", timeout=7).timeout

    # then
    assert (default, read_only, both) == ((3.0, 30.0), (3.0, 2.0), (7.0, 7.0))


def test_a_system_that_answers_too_slowly_raises_a_transient_error(server):
    # given
    server.routes["/slow"] = Reply(body={"ok": True}, delay=1.0)
    client = HttpClient(server.url, timeout=(2, 0.3), system_label="Orders API")

    # when
    with pytest.raises(TransientError) as raised:
        client.request("GET", "/slow")

    # then
    assert raised.value.message == (
        "Orders API did not answer within 0.3 seconds: it may be busy or down."
    )


def test_a_refused_connection_names_the_host_and_port(settings):
    # given
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["127.0.0.1"]
    port = free_port()

    # when
    with pytest.raises(TransientError) as raised:
        HttpClient(f"http://127.0.0.1:{port}").request("GET", "/")

    # then
    assert raised.value.message == (
        f"xConnector could not connect to 127.0.0.1:{port}: connection refused."
    )


def test_an_unknown_host_name_is_a_transient_error():
    # when
    with pytest.raises(TransientError) as raised:
        HttpClient("http://no-such-host.invalid").request("GET", "/")

    # then
    assert raised.value.message == (
        "xConnector could not connect to no-such-host.invalid:80: "
        "the host name could not be found."
    )


@pytest.mark.parametrize(
    "url",
    ["ftp://files.example.com/a.txt", "file:///etc/passwd", "no address", "http://"],
)
def test_only_http_and_https_addresses_are_called(url):
    # when
    with pytest.raises(PermanentError) as raised:
        HttpClient().request("GET", url)

    # then
    assert raised.value.message == (
        f"“{url}” is not a valid web address: it must start with http:// or "
        "https:// followed by a host name."
    )


# --- The SSRF guard -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "address", "kind"),
    [
        ("http://10.255.255.1/", "10.255.255.1", "private"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "link-local"),
        ("http://0.0.0.0:8000/", "0.0.0.0", "unspecified"),  # noqa: S104
        ("http://[::1]/", "::1", "loopback"),
        ("http://224.0.0.1/", "224.0.0.1", "multicast"),
        ("https://240.0.0.1/", "240.0.0.1", "reserved"),
    ],
)
def test_addresses_that_are_not_public_are_refused(settings, url, address, kind):
    # given
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = []

    # when
    with pytest.raises(BlockedAddressError) as raised:
        HttpClient().request("GET", url)

    # then
    assert raised.value.message == f"The address {address} is {kind}: {ALLOWLIST_HINT}"


def test_a_host_name_that_resolves_to_loopback_is_refused_off_the_allowlist(
    server, settings
):
    # given
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = []
    client = HttpClient(f"http://localhost:{server.port}")

    # when
    with pytest.raises(BlockedAddressError) as raised:
        client.request("GET", "/")

    # then
    assert raised.value.message == (
        f"The address 127.0.0.1 of host localhost is loopback: {ALLOWLIST_HINT}"
    )
    assert server.seen == []


def test_the_allowlist_can_name_one_port_of_a_host(server, settings):
    # given
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}"]
    server.routes["/"] = Reply(body={"ok": True})

    # when
    allowed = HttpClient(server.url).request("GET", "/")
    with pytest.raises(BlockedAddressError):
        HttpClient(f"http://127.0.0.1:{free_port()}").request("GET", "/")

    # then
    assert allowed.status_code == 200


# --- Redirects ------------------------------------------------------------------------


def test_redirects_are_followed_and_a_303_turns_a_post_into_a_get(server):
    # given
    server.routes["/old"] = Reply(302, headers={"Location": "/new"})
    server.routes["/new"] = Reply(body={"moved": True})
    server.routes["/submit"] = Reply(303, headers={"Location": f"{server.url}/done"})
    server.routes["/done"] = Reply(body={"done": True})
    server.routes["/keep"] = Reply(307, headers={"Location": "/new"})
    client = HttpClient(server.url)

    # when
    moved = client.request("GET", "/old")
    done = client.request("POST", "/submit", json={"a": 1})
    kept = client.request("POST", "/keep", json={"b": 2})

    # then
    assert (moved.json(), [r.status_code for r in moved.history]) == (
        {"moved": True},
        [302],
    )
    assert (done.json(), kept.json()) == ({"done": True}, {"moved": True})
    assert [(s.method, s.path, s.body) for s in server.seen[2:]] == [
        ("POST", "/submit", b'{"a": 1}'),
        ("GET", "/done", b""),
        ("POST", "/keep", b'{"b": 2}'),
        ("POST", "/new", b'{"b": 2}'),
    ]


def test_more_than_five_redirects_are_refused(server):
    # given
    server.routes["/loop"] = Reply(302, headers={"Location": "/loop"})

    # when
    with pytest.raises(PermanentError) as raised:
        HttpClient(server.url).request("GET", "/loop")

    # then
    assert raised.value.message == (
        "127.0.0.1 redirected the request more than 5 times: check the address "
        "of the connection."
    )
    assert server.hits("/loop") == 6


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://10.255.255.1/admin", "The address 10.255.255.1 is private: "),
        ("http://localhost:{port}/x", "The address 127.0.0.1 of host localhost is "),
    ],
)
def test_a_redirect_to_a_private_host_off_the_allowlist_is_refused(
    server, location, message
):
    # given: only 127.0.0.1 is allowlisted, not localhost
    server.routes["/away"] = Reply(
        302, headers={"Location": location.format(port=server.port)}
    )

    # when
    with pytest.raises(BlockedAddressError) as raised:
        HttpClient(server.url).request("GET", "/away")

    # then
    assert raised.value.message.startswith(message)
    assert raised.value.message.endswith(ALLOWLIST_HINT)
    assert server.hits("/x") == 0


def test_credentials_follow_a_redirect_on_the_same_host_only(server, settings):
    # given
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    with StubServer() as other:
        other.routes["/landing"] = Reply(body={"ok": True})
        server.routes["/same"] = Reply(302, headers={"Location": "/here"})
        server.routes["/here"] = Reply(body={})
        server.routes["/elsewhere"] = Reply(
            302, headers={"Location": f"http://localhost:{other.port}/landing"}
        )
        client = HttpClient(
            server.url,
            auth=BearerAuth("s3cret-token"),
            headers={"X-API-Key": "k3y-value"},
        )

        # when
        client.request("GET", "/same")
        client.request("GET", "/elsewhere")

    # then
    assert server.seen[1].headers["authorization"] == "Bearer s3cret-token"
    assert server.seen[1].headers["x-api-key"] == "k3y-value"
    assert "authorization" not in other.seen[0].headers
    assert "x-api-key" not in other.seen[0].headers


# --- Errors ---------------------------------------------------------------------------


def test_429_is_transient_and_carries_retry_after(server):
    # given
    server.routes["/busy"] = Reply(
        429, {"error": "rate_limited"}, headers={"Retry-After": "7"}
    )

    # when
    with pytest.raises(TransientError) as raised:
        HttpClient(server.url, system_label="Orders API").request("GET", "/busy")

    # then
    assert raised.value.message == (
        "Orders API received too many requests (HTTP 429). It asked to wait 7 seconds."
    )
    assert (raised.value.retry_after, raised.value.status) == (7.0, 429)


def test_500_is_transient_with_the_systems_own_words(server):
    # given
    server.routes["/orders"] = Reply(
        500,
        {"error": "internal_error", "message": "The order database is not available."},
    )

    # when
    with pytest.raises(TransientError) as raised:
        HttpClient(server.url, system_label="Orders API").request("GET", "/orders")

    # then
    assert raised.value.message == (
        "Orders API failed with an internal error (HTTP 500): The order database "
        "is not available."
    )
    assert raised.value.detail == (
        f"HTTP 500 Internal Server Error from GET {server.url}/orders: "
        '{"error": "internal_error", "message": "The order database is not available."}'
    )
    assert raised.value.retry_after is None


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            401,
            "Orders API refused the credentials (HTTP 401): check the user name, "
            "password, token or key of the connection.",
        ),
        (
            403,
            "Orders API denied access (HTTP 403): the account of the connection "
            "lacks the permission for this request.",
        ),
    ],
)
def test_401_and_403_are_auth_errors(server, status, message):
    # given
    server.routes["/secret"] = Reply(status, {"error": "no"})

    # when
    with pytest.raises(AuthError) as raised:
        HttpClient(server.url, system_label="Orders API").request("GET", "/secret")

    # then
    assert (raised.value.message, raised.value.status) == (message, status)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            Reply(404, {"error": "not_found", "message": "Order 9 does not exist."}),
            "Orders API refused the request (HTTP 404 Not Found): Order 9 does not "
            "exist.",
        ),
        (
            Reply(422, {"detail": [{"loc": ["body", "customer"], "msg": "required"}]}),
            "Orders API refused the request (HTTP 422 Unprocessable Entity): required.",
        ),
        (
            Reply(400, "<html><h1>Bad request</h1><p>No customer</p></html>"),
            "Orders API refused the request (HTTP 400 Bad Request): Bad request No "
            "customer.",
        ),
        (
            Reply(409, b""),
            "Orders API refused the request (HTTP 409 Conflict).",
        ),
    ],
)
def test_other_4xx_are_permanent_with_an_excerpt_of_the_answer(server, reply, message):
    # given
    server.routes["/orders"] = reply

    # when
    with pytest.raises(PermanentError) as raised:
        HttpClient(server.url, system_label="Orders API").request("POST", "/orders")

    # then
    assert type(raised.value) is PermanentError
    assert raised.value.message == message


def test_allowed_statuses_are_returned_instead_of_raised(server):
    # given
    server.routes["/orders/9"] = Reply(404, {"error": "not_found"})

    # when
    response = HttpClient(server.url).request("GET", "/orders/9", allow_status={404})

    # then
    assert (response.status_code, response.json()) == (404, {"error": "not_found"})


# --- Secrets stay out of logs and errors ----------------------------------------------


def test_each_request_is_logged_once_without_credentials(server, caplog):
    # given
    caplog.set_level(logging.INFO, logger="connectors.http")
    server.routes["/orders"] = Reply(body=[])
    client = HttpClient(f"http://ada:pa55-word@127.0.0.1:{server.port}")

    # when
    client.request("GET", "/orders", params={"token": "t0ken-value", "page": 2})

    # then
    lines = [r.getMessage() for r in caplog.records if r.name == "connectors.http"]
    assert len(lines) == 1
    assert re.fullmatch(
        rf"GET http://\*\*\*@127\.0\.0\.1:{server.port}/orders\?token=\*\*\*&page=2"
        r" -> 200 in \d+ ms",
        lines[0],
    )
    assert server.seen[0].headers["authorization"].startswith("Basic ")


def test_a_secret_echoed_in_an_error_is_scrubbed(server, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    server.routes["/orders"] = Reply(
        400, {"message": "The key k3y-s3cret-value is not valid here."}
    )
    client = HttpClient(server.url, headers={"X-API-Key": "k3y-s3cret-value"})

    # when
    with pytest.raises(PermanentError) as raised:
        client.request("GET", "/orders", params={"signature": "s1g-value"})

    # then
    assert raised.value.message == (
        "127.0.0.1 refused the request (HTTP 400 Bad Request): The key *** is not "
        "valid here."
    )
    for secret in ("k3y-s3cret-value", "s1g-value"):
        assert secret not in raised.value.detail
        assert secret not in caplog.text


def test_redact_url_hides_user_info_and_secret_parameters():
    # when
    redacted = redact_url(
        "https://ada:pw@api.example.com/x?api_key=1&page=2&client_secret=3&sig=4"
    )

    # then
    assert redacted == (
        "https://***@api.example.com/x?api_key=***&page=2&client_secret=***&sig=***"
    )


def test_redact_headers_hides_credential_headers():
    # when
    redacted = redact_headers(
        {
            "Authorization": "Bearer x",
            "Cookie": "session=1",
            "X-API-Key": "k",
            "Ocp-Apim-Subscription-Key": "k",
            "OTCSTicket": "t",
            "Accept": "application/json",
        }
    )

    # then
    assert redacted == {
        "Authorization": "***",
        "Cookie": "***",
        "X-API-Key": "***",
        "Ocp-Apim-Subscription-Key": "***",
        "OTCSTicket": "***",
        "Accept": "application/json",
    }


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(value, seconds):
    # given
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)

    # then
    assert parse_retry_after(value, now=now) == seconds


# --- Downloads ------------------------------------------------------------------------


def test_a_download_streams_with_its_name_type_size_and_sha256(server):
    # given
    content = b"%PDF-1.7 " * 1000
    server.routes["/files/42"] = Reply(
        body=content,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": 'attachment; filename="invoice 42.pdf"',
        },
    )

    # when
    document = HttpClient(server.url).stream_download("/files/42")
    data = document.read()

    # then
    assert data == content
    assert (document.name, document.media_type, document.size) == (
        "invoice 42.pdf",
        "application/pdf",
        9000,
    )
    assert document.sha256 == hashlib.sha256(content).hexdigest()


def test_a_download_over_the_size_limit_is_refused_before_reading(server, settings):
    # given
    settings.XCONNECTOR_MAX_DOCUMENT_BYTES = 4096
    server.routes["/files/big.bin"] = Reply(body=b"x" * 5000)

    # when
    with pytest.raises(PermanentError) as raised:
        HttpClient(server.url).stream_download("/files/big.bin")

    # then
    assert raised.value.message == (
        "big.bin is larger than the 4,096 bytes allowed for one document."
    )
