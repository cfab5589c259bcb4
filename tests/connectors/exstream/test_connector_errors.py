"""How Exstream's failures reach the flow engine: tokens, throttling, outages."""

from __future__ import annotations

import pytest

from connectors.errors import AuthError, TransientError
from connectors.exstream.emulator.state import WELCOME_LETTER
from connectors.exstream.sandbox.models import ExstreamToken
from tests.connectors.exstream.conftest import control, make_connector, run

pytestmark = [
    pytest.mark.urls("tests.connectors.exstream.urls"),
    pytest.mark.django_db(transaction=True),
]


def list_all(exstream) -> dict:
    return run(exstream, "list_communications", {})[0]


def test_an_expired_token_is_renewed_once_and_the_call_repeated(exstream, sandbox_url):
    # given: a token in use, which then expires
    list_all(exstream)
    assert ExstreamToken.objects.count() == 1
    control(sandbox_url, "POST", "_sandbox/tokens/expire")

    # when
    listed = list_all(exstream)

    # then
    assert listed["total"] == 4
    assert ExstreamToken.objects.count() == 2


def test_a_wrong_client_secret_is_an_auth_error(sandbox_url):
    # given
    exstream = make_connector(sandbox_url, client_secret="not-the-secret")

    # when
    with pytest.raises(AuthError) as raised:
        list_all(exstream)

    # then
    assert raised.value.message == (
        "The identity provider refused the client id or secret: check them in "
        "the connection's settings."
    )
    assert "not-the-secret" not in raised.value.detail


def test_too_many_requests_is_transient_with_the_wait_exstream_asked_for(
    exstream, sandbox_url
):
    # given
    control(sandbox_url, "POST", "_sandbox/faults", {"status": 429, "seconds": 7})

    # when
    with pytest.raises(TransientError) as raised:
        list_all(exstream)

    # then
    assert raised.value.status == 429
    assert raised.value.retry_after == 7.0
    assert raised.value.message == (
        "Exstream received too many requests (HTTP 429). It asked to wait 7 seconds."
    )
    assert list_all(exstream)["total"] == 4  # the fault was used up


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_transient(exstream, sandbox_url, status):
    # given
    control(sandbox_url, "POST", "_sandbox/faults", {"status": status})

    # when
    with pytest.raises(TransientError) as raised:
        run(
            exstream,
            "generate",
            {"communication_id": str(WELCOME_LETTER), "data": {}},
        )

    # then
    assert raised.value.status == status
    assert raised.value.retryable


def test_a_check_signs_in_and_reads_the_version(exstream):
    # when
    result = exstream.check()

    # then
    assert result.message == (
        "Signed in to OTDS as xconnector; Exstream 25.2.0 reachable at localhost"
    )


def test_a_check_with_a_wrong_secret_fails_with_an_auth_error(sandbox_url):
    # given
    exstream = make_connector(sandbox_url, client_secret="wrong")

    # when / then
    with pytest.raises(AuthError):
        exstream.check()


def test_a_tenant_deployment_gets_its_token_from_the_tenant_path(sandbox_url):
    # given
    exstream = make_connector(sandbox_url, otds_url=sandbox_url, tenant="acme")

    # when
    result = exstream.check()

    # then
    assert result.message.startswith("Signed in to OTDS as xconnector;")
    assert exstream.client.auth.token_url == (
        f"{sandbox_url}otdstenant/acme/otdsws/oauth2/token"
    )
