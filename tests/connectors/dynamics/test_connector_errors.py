"""How Dataverse's failures reach the flow engine."""

from __future__ import annotations

import pytest

from connectors.errors import AuthError, TransientError
from tests.connectors.dynamics.conftest import CONTOSO, inject, run

pytestmark = [
    pytest.mark.urls("tests.connectors.dynamics.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def test_a_revoked_token_is_renewed_once_and_the_call_repeated(
    dynamics, sandbox, caplog
):
    # given a signed-in connector whose token then stops working
    caplog.set_level("INFO", logger="connectors.http")
    run(dynamics, "get", {"entity_set": "accounts", "id": CONTOSO})
    inject(sandbox, revoke_tokens=True)
    caplog.clear()

    # when
    again = run(dynamics, "get", {"entity_set": "accounts", "id": CONTOSO})

    # then
    assert again["record"]["name"] == "Contoso Ltd"
    lines = [r.getMessage() for r in caplog.records]
    assert sum("oauth2/v2.0/token -> 200" in line for line in lines) == 1


def test_throttling_is_transient_with_the_wait_asked_for(dynamics, sandbox):
    # given
    run(dynamics, "get", {"entity_set": "accounts", "id": CONTOSO})
    inject(sandbox, status=429, count=1, seconds=12)

    # when
    with pytest.raises(TransientError) as raised:
        run(dynamics, "get", {"entity_set": "accounts", "id": CONTOSO})

    # then
    assert raised.value.retryable
    assert raised.value.retry_after == 12
    assert raised.value.status == 429
    assert raised.value.message == (
        "Dynamics 365 received too many requests (HTTP 429). It asked to wait "
        "12 seconds."
    )


def test_a_server_error_is_transient(dynamics, sandbox):
    # given
    run(dynamics, "get", {"entity_set": "accounts", "id": CONTOSO})
    inject(sandbox, status=503, count=1, seconds=1)

    # when
    with pytest.raises(TransientError) as raised:
        run(dynamics, "get", {"entity_set": "accounts", "id": CONTOSO})

    # then
    assert raised.value.status == 503


def test_a_wrong_client_secret_is_an_auth_error(dynamics):
    # given
    dynamics.config.client_secret = type(dynamics.config.client_secret)("wr0ng")

    # when
    with pytest.raises(AuthError) as raised:
        dynamics.check()

    # then
    assert raised.value.message == (
        "The identity provider refused the client id or secret: check them in "
        "the connection's settings."
    )


def test_a_token_refused_even_after_renewal_is_an_auth_error(dynamics, sandbox):
    # given an environment that refuses every token it issues
    inject(sandbox, token_lifetime=0)

    # when
    with pytest.raises(AuthError) as raised:
        run(dynamics, "get", {"entity_set": "accounts", "id": CONTOSO})

    # then
    assert raised.value.status == 401
    assert raised.value.message == (
        "Dynamics 365 refused the credentials (HTTP 401): check the user name, "
        "password, token or key of the connection."
    )
