"""The REST API connector against its emulator, served by a live server."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.base import ActionContext
from connectors.errors import (
    AuthError,
    BlockedAddressError,
    PermanentError,
    TransientError,
)
from connectors.http.connector import HttpConnector
from connectors.http.emulator import (
    SANDBOX_API_KEY,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_PASSWORD,
    SANDBOX_TOKEN,
    SANDBOX_USER,
)
from connectors.registry import get_connector
from tests.connectors.http_stub import Reply, StubServer

pytestmark = pytest.mark.urls("tests.connectors.sandbox_urls_http")

ORDER_IDS = [f"ORD-{number}" for number in range(1001, 1024)]


@pytest.fixture
def sandbox(live_server, settings) -> str:
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    return f"{live_server.url}/sandbox/http"


def connector(base_url: str, **settings: Any) -> HttpConnector:
    return HttpConnector(HttpConnector.Config(base_url=base_url, **settings))


def call(base_url: str, params: dict[str, Any], **settings: Any) -> dict[str, Any]:
    output, documents = connector(base_url, **settings).run_action(
        "request", params, ActionContext(idempotency_key="run-7-step-2")
    )
    assert documents == []
    return output


def test_the_registry_knows_the_rest_api_connector():
    # when
    found = get_connector("http")

    # then
    assert found is HttpConnector
    assert (found.label, found.category, list(found.actions)) == (
        "REST API",
        "generic",
        ["request", "download"],
    )


# --- Pagination -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "pagination"),
    [
        ("orders/page", {"strategy": "page", "items_path": "data", "page_size": 10}),
        (
            "orders/offset",
            {"strategy": "offset", "items_path": "items", "page_size": 10},
        ),
        ("orders/cursor", {"strategy": "cursor", "items_path": "orders"}),
        (
            "orders/next-link",
            {
                "strategy": "next_link",
                "items_path": "results",
                "next_link_path": "links.next",
            },
        ),
        ("orders/link-header", {"strategy": "link_header"}),
    ],
)
def test_each_pagination_style_returns_the_23_orders_in_order(
    sandbox, path, pagination
):
    # when
    output = call(sandbox, {"path": path, "pagination": pagination})

    # then
    assert [order["id"] for order in output["items"]] == ORDER_IDS
    assert (output["status"], output["pages"], output["truncated"]) == (200, 3, False)


def test_max_pages_stops_early_and_says_so(sandbox):
    # when
    output = call(
        sandbox,
        {
            "path": "orders/page",
            "pagination": {
                "strategy": "page",
                "items_path": "data",
                "page_size": 10,
                "max_pages": 2,
            },
        },
    )

    # then
    assert [order["id"] for order in output["items"]] == ORDER_IDS[:20]
    assert (output["pages"], output["truncated"]) == (2, True)


def test_a_page_link_to_another_host_is_not_followed(settings):
    # given
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    with StubServer() as server:
        server.routes["/orders"] = Reply(
            body={"results": [{"id": 1}], "next": "http://localhost:9/orders?p=2"}
        )

        # when
        with pytest.raises(PermanentError) as raised:
            call(
                server.url,
                {
                    "path": "orders",
                    "pagination": {"strategy": "next_link", "items_path": "results"},
                },
            )

    # then
    assert raised.value.message == (
        f"The next page is on localhost:9, not on 127.0.0.1:{server.port}: "
        "xConnector only follows page links to the host of the first page."
    )


# --- One call -------------------------------------------------------------------------


def test_one_order_with_a_response_mapping(sandbox):
    # when
    output = call(
        sandbox,
        {
            "path": "orders/ORD-1005",
            "response_mapping": {"customer": "customer", "absent": "lines.0.sku"},
        },
    )

    # then
    assert output == {
        "status": 200,
        "items": [],
        "body": {
            "id": "ORD-1005",
            "customer": "Stark AG",
            "total": "268.00",
            "currency": "EUR",
            "status": "shipped",
            "created_at": "2025-03-05T09:00:00Z",
        },
        "mapped": {"customer": "Stark AG", "absent": None},
        "pages": 1,
        "truncated": False,
    }


def test_a_json_body_is_posted_with_the_idempotency_key(sandbox):
    # when
    output = call(
        sandbox,
        {"method": "POST", "path": "echo", "query": {"dry": "yes"}, "body": {"a": [1]}},
    )

    # then
    assert output["body"] == {
        "method": "POST",
        "content_type": "application/json",
        "query": {"dry": "yes"},
        "idempotency_key": "run-7-step-2",
        "json": {"a": [1]},
        "text": None,
    }


def test_a_text_body_is_sent_as_text(sandbox):
    # when
    output = call(
        sandbox,
        {
            "method": "PUT",
            "path": "echo",
            "body": "Hello",
            "response_mapping": {"t": "text"},
        },
    )

    # then
    assert output["body"]["content_type"] == "text/plain"
    assert output["mapped"] == {"t": "Hello"}


def test_a_moved_address_is_followed(sandbox):
    # when
    output = call(sandbox, {"path": "v1/orders", "query": {"page": 2, "limit": 10}})

    # then
    assert [order["id"] for order in output["body"]["data"]] == ORDER_IDS[10:20]


def test_a_get_with_a_body_is_refused_before_calling(sandbox):
    # when
    with pytest.raises(PermanentError) as raised:
        call(sandbox, {"path": "echo", "body": {"a": 1}})

    # then
    assert raised.value.message == (
        "The input of “Call an API” is not valid: value: Value error, a GET "
        "request cannot have a body."
    )


# --- Failures -------------------------------------------------------------------------


def test_an_unknown_order_is_a_permanent_error_in_the_apis_words(sandbox):
    # when
    with pytest.raises(PermanentError) as raised:
        call(sandbox, {"path": "orders/ORD-9999"})

    # then
    assert raised.value.message == (
        "localhost refused the request (HTTP 404 Not Found): Order ORD-9999 does "
        "not exist."
    )
    assert raised.value.status == 404


@pytest.mark.parametrize(
    ("path", "retry_after", "message"),
    [
        (
            "busy",
            7.0,
            "localhost received too many requests (HTTP 429). It asked to wait "
            "7 seconds.",
        ),
        (
            "maintenance",
            120.0,
            "localhost is temporarily unavailable (HTTP 503). It asked to wait "
            "120 seconds.",
        ),
        (
            "broken",
            None,
            "localhost failed with an internal error (HTTP 500): The order "
            "database is not available.",
        ),
    ],
)
def test_busy_and_broken_are_transient(sandbox, path, retry_after, message):
    # when
    with pytest.raises(TransientError) as raised:
        call(sandbox, {"path": path})

    # then
    assert (raised.value.message, raised.value.retry_after) == (message, retry_after)


def test_a_slow_answer_is_a_transient_error_naming_the_timeout(sandbox):
    # when
    with pytest.raises(TransientError) as raised:
        call(sandbox, {"path": "slow", "query": {"seconds": 3}}, read_timeout=1)

    # then
    assert raised.value.message == (
        "localhost did not answer within 1 second: it may be busy or down."
    )


def test_the_sandbox_is_refused_when_its_host_is_off_the_allowlist(sandbox, settings):
    # given
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = []

    # when
    with pytest.raises(BlockedAddressError) as raised:
        connector(sandbox, health_path="health").check()

    # then
    assert raised.value.message == (
        "The address 127.0.0.1 of host localhost is loopback: xConnector only "
        "calls it when the host is on the allowlist (XCONNECTOR_HTTP_ALLOWED_HOSTS)."
    )


# --- Sign-in and "Test connection" ----------------------------------------------------


def test_check_reports_the_host_and_status(sandbox):
    # when
    result = connector(sandbox, health_path="health").check()

    # then
    assert result.message == "Reached localhost: HTTP 200"


def test_check_fails_when_the_health_path_fails(sandbox):
    # when
    with pytest.raises(TransientError) as raised:
        connector(sandbox, health_path="broken").check()

    # then
    assert raised.value.status == 500


@pytest.mark.parametrize(
    ("auth", "caller"),
    [
        ({"type": "bearer", "token": SANDBOX_TOKEN}, "token"),
        ({"type": "api_key", "value": SANDBOX_API_KEY}, "api key"),
        (
            {
                "type": "basic",
                "username": SANDBOX_USER,
                "password": SANDBOX_PASSWORD,
            },
            "sandbox",
        ),
        (
            {
                "type": "oauth2_client_credentials",
                "token_url": "{sandbox}/oauth/token",
                "client_id": SANDBOX_CLIENT_ID,
                "client_secret": SANDBOX_CLIENT_SECRET,
            },
            "sandbox-client",
        ),
    ],
)
def test_each_sign_in_reaches_the_secure_orders(sandbox, auth, caller):
    # given
    settings = {k: v.format(sandbox=sandbox) for k, v in auth.items()}

    # when
    output = call(sandbox, {"path": "secure/orders"}, auth=settings)

    # then
    assert output["body"]["caller"] == caller
    assert [order["id"] for order in output["body"]["data"]] == ORDER_IDS[:5]


@pytest.mark.parametrize(
    "auth",
    [
        {"type": "none"},
        {"type": "bearer", "token": "expired-token"},
        {
            "type": "oauth2_client_credentials",
            "token_url": "{sandbox}/oauth/token",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": "not-the-secret",
        },
    ],
)
def test_missing_or_wrong_credentials_are_auth_errors(sandbox, auth):
    # given
    settings = {k: v.format(sandbox=sandbox) for k, v in auth.items()}

    # when
    with pytest.raises(AuthError) as raised:
        call(sandbox, {"path": "secure/orders"}, auth=settings)

    # then
    assert "not-the-secret" not in f"{raised.value.message} {raised.value.detail}"
    assert "expired-token" not in f"{raised.value.message} {raised.value.detail}"


def test_a_document_downloads_with_its_sha256(sandbox):
    # when
    document = connector(sandbox).client().stream_download("documents/ORD-1001.txt")
    content = document.read()

    # then
    assert content == b"Order confirmation ORD-1001.txt\n" * 100
    assert (document.name, document.media_type, document.size) == (
        "ORD-1001.txt",
        "text/plain",
        3200,
    )
    assert document.sha256 == hashlib.sha256(content).hexdigest()


# --- Settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"base_url": "ftp://files.example.com"},
            "Value error, “ftp://files.example.com” is not a valid web address: it "
            "must start with http:// or https:// followed by a host name.",
        ),
        (
            {"base_url": "https://api.example.com", "headers": {"Authorization": "x"}},
            "Value error, “Authorization” looks like a credential: put it in the "
            "authentication fields, which keep it encrypted",
        ),
    ],
)
def test_settings_refuse_what_cannot_work_or_would_leak(values, message):
    # when
    with pytest.raises(ValidationError) as raised:
        HttpConnector.Config.model_validate(values)

    # then
    assert raised.value.errors()[0]["msg"] == message


def test_the_download_action_hands_over_the_document_as_a_stream(sandbox):
    # when
    output, documents = connector(sandbox).run_action(
        "download",
        {"path": "documents/big.txt", "query": {"bytes": 100000}},
        ActionContext(idempotency_key="run-1-download"),
    )
    content = documents[0].read()

    # then
    assert output == {"name": "big.txt", "media_type": "text/plain", "size": 100000}
    assert len(content) == 100000
    assert content.startswith(b"Order confirmation big.txt\n")
    assert documents[0].sha256 == hashlib.sha256(content).hexdigest()
