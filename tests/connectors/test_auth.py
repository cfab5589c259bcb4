"""Auth schemes against real local servers: headers, token caching, refresh."""

from __future__ import annotations

import base64
import itertools
import logging
import threading
from collections.abc import Iterator

import pytest
from pydantic import Field, ValidationError

from connectors import auth
from connectors.auth import (
    ApiKeyAuth,
    AuthSettings,
    BasicAuth,
    BearerAuth,
    EntraClientCredentials,
    NoAuthSettings,
    OAuth2ClientCredentials,
    build_auth,
)
from connectors.base import Config
from connectors.errors import (
    AuthError,
    BlockedAddressError,
    ConnectorError,
    PermanentError,
)
from connectors.http import HttpClient
from tests.connectors.http_stub import Reply, Seen, StubServer, self_signed_certificate

CLIENT_SECRET = "cl1ent-s3cret-value"


@pytest.fixture(autouse=True)
def fresh_tokens() -> Iterator[None]:
    auth.forget_tokens()
    yield
    auth.forget_tokens()


@pytest.fixture
def server(settings) -> Iterator[StubServer]:
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["127.0.0.1"]
    with StubServer() as running:
        yield running


def identity_provider(server: StubServer, *, lifetime: int = 3600) -> None:
    """/token issues token-1, token-2, ... for the right client id and secret."""
    numbers = itertools.count(1)

    def token(seen: Seen) -> Reply:
        form = seen.form()
        header = seen.headers.get("authorization", "")
        pair = f"app:{CLIENT_SECRET}".encode()
        by_header = header == "Basic " + base64.b64encode(pair).decode()
        by_body = (form.get("client_id"), form.get("client_secret")) == (
            "app",
            CLIENT_SECRET,
        )
        if not (by_header or by_body):
            return Reply(401, {"error": "invalid_client", "error_description": "No."})
        if form.get("scope", "orders.read") != "orders.read":
            return Reply(400, {"error": "invalid_scope"})
        return Reply(
            body={"access_token": f"token-{next(numbers)}", "expires_in": lifetime}
        )

    server.routes["/token"] = token


def api_accepting(server: StubServer, *tokens: str) -> None:
    def orders(seen: Seen) -> Reply:
        if seen.headers.get("authorization") in {f"Bearer {t}" for t in tokens}:
            return Reply(body=[{"id": 1}])
        return Reply(401, {"error": "invalid_token"})

    server.routes["/orders"] = orders


def oauth(
    server: StubServer, secret: str = CLIENT_SECRET, **kwargs
) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(
        f"{server.url}/token", "app", secret, "orders.read", **kwargs
    )


# --- Static credentials ---------------------------------------------------------------


def test_basic_auth_sends_the_user_and_password_in_utf8(server):
    # given
    server.routes["/orders"] = Reply(body=[])
    client = HttpClient(server.url, auth=BasicAuth("adä", "pässword"))

    # when
    client.request("GET", "/orders")

    # then
    expected = base64.b64encode("adä:pässword".encode()).decode()
    assert server.seen[0].headers["authorization"] == f"Basic {expected}"


def test_an_api_key_goes_in_a_header_or_in_the_query(server, caplog):
    # given
    caplog.set_level(logging.DEBUG)
    server.routes["/orders"] = Reply(body=[])

    # when
    HttpClient(server.url, auth=ApiKeyAuth("X-API-Key", "k3y-1")).request(
        "GET", "/orders"
    )
    HttpClient(server.url, auth=ApiKeyAuth("k", "k3y-2", "query")).request(
        "GET", "/orders", params={"page": 1}
    )

    # then
    assert server.seen[0].headers["x-api-key"] == "k3y-1"
    assert server.seen[1].query == {"page": "1", "k": "k3y-2"}
    assert "k3y-1" not in caplog.text
    assert "k3y-2" not in caplog.text
    assert f"GET {server.url}/orders?page=1&k=*** -> 200" in caplog.text


def test_a_bearer_token_goes_in_the_authorization_header(server):
    # given
    server.routes["/orders"] = Reply(body=[])

    # when
    HttpClient(server.url, auth=BearerAuth("b3arer")).request("GET", "/orders")

    # then
    assert server.seen[0].headers["authorization"] == "Bearer b3arer"


# --- OAuth 2.0 client credentials -----------------------------------------------------


def test_an_oauth_token_is_fetched_once_for_several_calls(server):
    # given
    identity_provider(server)
    api_accepting(server, "token-1")

    # when
    first = HttpClient(server.url, auth=oauth(server)).request("GET", "/orders")
    second = HttpClient(server.url, auth=oauth(server)).request("GET", "/orders")

    # then
    assert (first.json(), second.json()) == ([{"id": 1}], [{"id": 1}])
    assert server.hits("/token") == 1
    token_request = server.seen[0]
    assert token_request.form() == {
        "grant_type": "client_credentials",
        "scope": "orders.read",
    }


def test_the_client_credentials_can_go_in_the_form_body(server):
    # given
    identity_provider(server)
    api_accepting(server, "token-1")

    # when
    HttpClient(server.url, auth=oauth(server, client_auth="body")).request(
        "GET", "/orders"
    )

    # then
    assert server.seen[0].form()["client_secret"] == CLIENT_SECRET
    assert "authorization" not in server.seen[0].headers


def test_a_token_is_fetched_again_shortly_before_it_expires(server, monkeypatch):
    # given: a token that lives 120 seconds
    now = [1000.0]
    monkeypatch.setattr(auth.tokens, "_clock", lambda: now[0])
    identity_provider(server, lifetime=120)
    scheme = oauth(server)

    # when
    tokens = [scheme.token()]
    now[0] += 59
    tokens.append(scheme.token())
    now[0] += 2
    tokens.append(scheme.token())

    # then
    assert tokens == ["token-1", "token-1", "token-2"]


def test_a_refused_token_is_refreshed_once_and_the_call_retried(server):
    # given: the API no longer accepts the first token
    identity_provider(server)
    api_accepting(server, "token-2")
    client = HttpClient(server.url, auth=oauth(server))

    # when
    first = client.request("GET", "/orders")
    second = client.request("GET", "/orders")

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert [r.status_code for r in first.history] == [401]
    assert (server.hits("/token"), server.hits("/orders")) == (2, 3)


def test_a_second_401_after_the_refresh_is_an_auth_error(server):
    # given
    identity_provider(server)
    api_accepting(server)

    # when
    with pytest.raises(AuthError) as raised:
        HttpClient(server.url, auth=oauth(server)).request("GET", "/orders")

    # then
    assert raised.value.status == 401
    assert (server.hits("/token"), server.hits("/orders")) == (2, 2)


def test_concurrent_calls_share_one_token_request(server):
    # given
    identity_provider(server)
    slow_token = server.routes["/token"]
    server.routes["/token"] = lambda seen: Reply(
        **{**vars(slow_token(seen)), "delay": 0.2}
    )
    scheme = oauth(server)
    tokens: list[str] = []

    # when
    threads = [
        threading.Thread(target=lambda: tokens.append(scheme.token())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert (tokens, server.hits("/token")) == (["token-1"] * 8, 1)


def test_a_wrong_client_secret_is_an_auth_error(server):
    # given
    identity_provider(server)
    api_accepting(server, "token-1")

    # when
    with pytest.raises(AuthError) as raised:
        HttpClient(server.url, auth=oauth(server, "wr0ng-s3cret")).request(
            "GET", "/orders"
        )

    # then
    assert raised.value.message == (
        "The identity provider refused the client id or secret: check them in the "
        "connection's settings."
    )
    assert (
        raised.value.detail == f"HTTP 401 from {server.url}/token: invalid_client No."
    )
    assert server.hits("/orders") == 0


def test_a_refused_scope_is_a_permanent_error(server):
    # given
    identity_provider(server)
    scheme = OAuth2ClientCredentials(
        f"{server.url}/token", "app", CLIENT_SECRET, "admin"
    )

    # when
    with pytest.raises(PermanentError) as raised:
        scheme.token()

    # then
    assert raised.value.message == (
        "The identity provider refused the scope “admin”: check the scope in the "
        "connection's settings."
    )


def test_the_token_request_passes_the_address_guard(settings):
    # given
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = []
    scheme = OAuth2ClientCredentials("http://10.255.255.1/token", "app", CLIENT_SECRET)

    # when
    with pytest.raises(BlockedAddressError) as raised:
        scheme.token()

    # then
    assert raised.value.message.startswith("The address 10.255.255.1 is private:")


# --- Microsoft Entra ID (msal) --------------------------------------------------------


@pytest.fixture
def entra(settings, tmp_path) -> Iterator[tuple[StubServer, str]]:
    """An HTTPS stand-in for login.microsoftonline.com, and its certificate."""
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["127.0.0.1"]
    certificate, key = self_signed_certificate(tmp_path)
    numbers = itertools.count(1)
    with StubServer(tls=(certificate, key)) as server:
        base = f"{server.url}/tenant-1"
        server.routes["/tenant-1/v2.0/.well-known/openid-configuration"] = Reply(
            body={
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "issuer": f"{base}/v2.0",
            }
        )

        def token(seen: Seen) -> Reply:
            if seen.form().get("client_secret") != CLIENT_SECRET:
                return Reply(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret.",
                    },
                )
            return Reply(
                body={
                    "access_token": f"entra-{next(numbers)}",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }
            )

        server.routes["/tenant-1/oauth2/v2.0/token"] = token
        yield server, str(certificate)


def entra_scheme(server: StubServer, certificate: str, secret: str = CLIENT_SECRET):
    return EntraClientCredentials(
        f"{server.url}/tenant-1",
        "app",
        secret,
        "https://orders.example.com/.default",
        verify=certificate,
    )


def test_an_entra_token_is_fetched_once_and_refreshed_after_a_401(entra):
    # given
    server, certificate = entra
    api_accepting(server, "entra-2")
    client = HttpClient(
        server.url, auth=entra_scheme(server, certificate), verify=certificate
    )

    # when
    first = client.request("GET", "/orders")
    second = client.request("GET", "/orders")

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert server.hits("/tenant-1/oauth2/v2.0/token") == 2
    assert server.hits("/orders") == 3


def test_a_wrong_entra_client_secret_is_an_auth_error(entra):
    # given
    server, certificate = entra

    # when
    with pytest.raises(AuthError) as raised:
        entra_scheme(server, certificate, "wr0ng-s3cret").token()

    # then
    assert raised.value.message == (
        "Microsoft Entra ID refused the client id or secret: check them in the "
        "connection's settings (the secret may have expired)."
    )
    assert (
        raised.value.detail == "invalid_client: AADSTS7000215: Invalid client secret."
    )


# --- Settings -------------------------------------------------------------------------


class Settings(Config):
    """A connector's Config that embeds the auth settings."""

    auth: AuthSettings = Field(default_factory=NoAuthSettings)


def test_auth_settings_keep_every_secret_in_a_secret_field():
    # when
    secrets = Settings.secret_fields()

    # then
    assert secrets == (
        "auth__password",
        "auth__value",
        "auth__token",
        "auth__client_secret",
    )


def test_auth_settings_keep_a_stored_secret_apart_from_the_settings():
    # given
    stored = {"auth": {"type": "basic", "username": "ada"}}

    # when
    settings = Settings.from_parts(stored, {"auth__password": "pw"})

    # then
    assert settings.public_settings() == stored
    assert settings.secret_values() == {"auth__password": "pw"}


@pytest.mark.parametrize(
    ("auth", "errors"),
    [
        (
            {"type": "basic", "username": "ada"},
            [(("auth", "basic", "password"), "Field required")],
        ),
        (
            {"type": "oauth2_client_credentials", "token_url": "ftp://idp/t"},
            [
                (
                    ("auth", "oauth2_client_credentials", "token_url"),
                    "Value error, “ftp://idp/t” is not a valid web address: it "
                    "must start with http:// or https:// followed by a host name.",
                ),
                (("auth", "oauth2_client_credentials", "client_id"), "Field required"),
                (
                    ("auth", "oauth2_client_credentials", "client_secret"),
                    "Field required",
                ),
            ],
        ),
    ],
)
def test_auth_settings_name_what_is_missing(auth, errors):
    # when
    with pytest.raises(ValidationError) as raised:
        Settings.model_validate({"auth": auth})

    # then
    assert [(e["loc"], e["msg"]) for e in raised.value.errors()] == errors


def test_build_auth_makes_the_scheme_the_settings_name():
    # given
    auths = [
        {"type": "none"},
        {"type": "basic", "username": "ada", "password": "pw"},
        {"type": "api_key", "value": "k", "location": "query"},
        {"type": "bearer", "token": "t"},
        {
            "type": "oauth2_client_credentials",
            "token_url": "https://idp.example.com/token",
            "client_id": "app",
            "client_secret": "s",
        },
        {
            "type": "entra_client_credentials",
            "tenant": "contoso.onmicrosoft.com",
            "client_id": "app",
            "client_secret": "s",
            "scope": "https://org.crm.dynamics.com/.default",
        },
    ]

    # when
    schemes = [build_auth(Settings.model_validate({"auth": a}).auth) for a in auths]

    # then
    assert [type(s).__name__ for s in schemes] == [
        "NoneType",
        "BasicAuth",
        "ApiKeyAuth",
        "BearerAuth",
        "OAuth2ClientCredentials",
        "EntraClientCredentials",
    ]
    assert (schemes[2].name, schemes[2].location) == ("X-API-Key", "query")
    assert (
        schemes[5].authority
        == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    )


# --- Secrets never show ---------------------------------------------------------------


def test_no_secret_reaches_the_logs_or_an_error(server, caplog):
    # given: every scheme fails against an API that refuses everything
    caplog.set_level(logging.DEBUG)
    identity_provider(server)
    api_accepting(server)
    secrets = {
        "password": "pa55-w0rd-value",
        "token": "b3arer-token-value",
        "api key": "ap1-key-value",
        "client secret": CLIENT_SECRET,
    }
    schemes = [
        BasicAuth("ada", secrets["password"]),
        BearerAuth(secrets["token"]),
        ApiKeyAuth("X-API-Key", secrets["api key"]),
        ApiKeyAuth("apikey", secrets["api key"], "query"),
        oauth(server),
        oauth(server, secret=secrets["client secret"] + "-wrong"),
    ]
    errors: list[ConnectorError] = []

    # when
    for scheme in schemes:
        with pytest.raises(ConnectorError) as raised:
            HttpClient(server.url, auth=scheme).request("GET", "/orders")
        errors.append(raised.value)

    # then
    assert [type(e).__name__ for e in errors] == ["AuthError"] * 6
    shown = caplog.text + "".join(f"{e.message} {e.detail}" for e in errors)
    for secret in secrets.values():
        assert secret not in shown
    assert "token-1" not in shown  # the access token fetched on the way
