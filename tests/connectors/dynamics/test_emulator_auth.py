"""The emulator's Entra ID endpoints, as standard OAuth2/OpenID clients see them."""

from __future__ import annotations

import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from tests.connectors.dynamics.conftest import inject, sandbox_token

pytestmark = [
    pytest.mark.urls("tests.connectors.dynamics.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def test_discovery_advertises_https_urls_behind_a_tls_proxy(sandbox, live_server):
    # given a TLS-terminating proxy in front of the emulator
    host = live_server.url.removeprefix("http://")

    # when
    answer = requests.get(
        f"{sandbox}contoso/v2.0/.well-known/openid-configuration",
        headers={"X-Forwarded-Proto": "https"},
        timeout=10,
    )

    # then
    document = answer.json()
    assert answer.status_code == 200
    base = f"https://{host}/sandbox/dynamics/contoso"
    assert document["token_endpoint"] == f"{base}/oauth2/v2.0/token"
    assert document["authorization_endpoint"] == f"{base}/oauth2/v2.0/authorize"
    assert document["issuer"] == f"{base}/v2.0"


def test_authlib_reads_the_discovery_document_and_gets_a_token(
    sandbox, api, monkeypatch
):
    # given authlib, allowed plain http by its documented switch
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    session = OAuth2Session(
        "sandbox-client",
        "sandbox-secret",
        scope="https://org.crm.dynamics.com/.default",
    )

    # when
    metadata = session.get(
        f"{sandbox}contoso/v2.0/.well-known/openid-configuration",
        withhold_token=True,
        timeout=10,
    ).json()
    token = session.fetch_token(
        metadata["token_endpoint"], grant_type="client_credentials"
    )
    accounts = session.get(f"{api}accounts?$select=name&$orderby=name", timeout=10)

    # then
    assert metadata["token_endpoint"] == f"{sandbox}contoso/oauth2/v2.0/token"
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3599
    assert [a["name"] for a in accounts.json()["value"]] == [
        "Contoso Ltd",
        "Fabrikam Inc",
        "Northwind Traders",
    ]


def test_a_wrong_client_secret_is_refused_as_entra_does(sandbox):
    # when
    answer = requests.post(
        f"{sandbox}contoso/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "wrong",
            "scope": "https://org.crm.dynamics.com/.default",
        },
        timeout=10,
    )

    # then
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.json()["error_description"].startswith(
        "AADSTS7000215: Invalid client secret provided."
    )


def test_a_scope_without_default_is_invalid(sandbox):
    # when
    answer = requests.post(
        f"{sandbox}contoso/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "scope": "https://org.crm.dynamics.com/user_impersonation",
        },
        timeout=10,
    )

    # then
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_an_expired_token_gets_401_with_the_error_body(sandbox, api):
    # given tokens that live one second
    inject(sandbox, token_lifetime=1)
    token = sandbox_token(sandbox)
    time.sleep(1.2)

    # when
    answer = requests.get(
        f"{api}accounts", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )

    # then
    assert answer.status_code == 401
    assert answer.json() == {
        "error": {
            "code": "0x80072560",
            "message": "The access token is missing, expired or invalid.",
        }
    }
    assert answer.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")
