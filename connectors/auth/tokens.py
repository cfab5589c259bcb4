"""Bearer tokens fetched from an identity provider: OAuth 2.0 client
credentials and Microsoft Entra ID (msal), cached and refreshed once on 401."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import msal
import requests
from requests.auth import AuthBase
from requests.hooks import default_hooks

from connectors.auth.schemes import BasicAuth
from connectors.errors import AuthError, ConnectorError, PermanentError, TransientError
from connectors.http import HttpClient, parse_target, redact_url, scrub
from connectors.http.client import Timeout

ENTRA_AUTHORITY_HOST = "https://login.microsoftonline.com"

ENTRA_AUTHORITY_HOST = "https://login.microsoftonline.com"

_clock: Callable[[], float] = time.monotonic  # tests move time forward


# --- Tokens fetched from an identity provider -----------------------------------------


@dataclass
class _CachedToken:
    value: str
    renew_at: float


_tokens: dict[tuple[str, ...], _CachedToken] = {}
_entra_apps: dict[tuple[str, ...], msal.ConfidentialClientApplication] = {}
_key_locks: dict[tuple[str, ...], threading.Lock] = {}
_registry_lock = threading.Lock()


def _lock_for(key: tuple[str, ...]) -> threading.Lock:
    with _registry_lock:
        return _key_locks.setdefault(key, threading.Lock())


def forget_tokens() -> None:
    """Drop every cached token and Entra application (tests, key rotation)."""
    with _registry_lock:
        _tokens.clear()
        _entra_apps.clear()


def _fingerprint(secret: str) -> str:
    # The secret is part of the cache key, so a wrong secret never borrows
    # a token that the right one obtained.
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenAuth(AuthBase):
    """A bearer token from ``token()``; on 401, one fresh token and one retry."""

    secret: str = ""

    def token(self, stale: str | None = None) -> str:
        """A valid token. ``stale`` is one the API has just refused: it is
        not handed out again."""
        raise NotImplementedError

    def secret_values(self) -> list[str]:
        return [self.secret]

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        r.register_hook("response", self._retry_on_401)
        return r

    def _retry_on_401(
        self, response: requests.Response, **kwargs: Any
    ) -> requests.Response:
        if response.status_code != 401:
            return response
        used = response.request.headers.get("Authorization", "")
        fresh = self.token(stale=used.removeprefix("Bearer "))
        response.content  # noqa: B018 - read it, so the connection is released
        response.close()
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Bearer {fresh}"
        retry.hooks = default_hooks()  # once only: a second 401 is an answer
        answer = response.connection.send(retry, **kwargs)
        answer.history.append(response)
        answer.request = retry
        return answer


def _renew_at(expires_in: float) -> float:
    # A minute early (half the lifetime for short-lived tokens), so that a
    # token does not expire between being handed out and being used.
    return _clock() + max(expires_in - 60, expires_in / 2)


class OAuth2ClientCredentials(TokenAuth):
    """OAuth 2.0 client credentials grant (RFC 6749 section 4.4).

    ``client_auth`` sends the client id and secret in an Authorization
    header (``basic``, the RFC's default) or in the form body (``body``).
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        *,
        client_auth: Literal["basic", "body"] = "basic",
        verify: bool | str = True,
        timeout: Timeout | None = None,
    ) -> None:
        parse_target(token_url)
        self.token_url = token_url
        self.client_id = client_id
        self.secret = client_secret
        self.scope = scope or ""
        self.client_auth = client_auth
        self.verify = verify
        self.timeout = timeout
        self._key = (
            "oauth2",
            token_url,
            client_id,
            self.scope,
            _fingerprint(self.secret),
        )

    def __repr__(self) -> str:
        url = redact_url(self.token_url)
        return f"OAuth2ClientCredentials({url!r}, {self.client_id!r})"

    def token(self, stale: str | None = None) -> str:
        with _lock_for(self._key):
            cached = _tokens.get(self._key)
            if cached and cached.value != stale and cached.renew_at > _clock():
                return cached.value
            value, expires_in = self._fetch()
            _tokens[self._key] = _CachedToken(value, _renew_at(expires_in))
            return value

    def _fetch(self) -> tuple[str, float]:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        auth = None
        if self.client_auth == "body":
            form.update(client_id=self.client_id, client_secret=self.secret)
        else:
            auth = BasicAuth(self.client_id, self.secret)
        with HttpClient(
            self.token_url,
            auth=auth,
            verify=self.verify,
            timeout=self.timeout,
            system_label="The identity provider",
        ) as client:
            response = client.request(
                "POST",
                data=form,
                headers={"Accept": "application/json"},
                allow_status=(400, 401),
                redact=[self.secret],
            )
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code in (400, 401):
            raise self._refused(response.status_code, body)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise PermanentError(
                "The identity provider answered without an access token: check "
                "the token URL of the connection.",
                detail=f"{redact_url(self.token_url)} answered with the fields "
                f"{sorted(body)}",
            )
        return token, _lifetime(body.get("expires_in"))

    def _refused(self, status: int, body: dict[str, Any]) -> ConnectorError:
        error = str(body.get("error") or "")
        description = str(body.get("error_description") or "")
        detail = scrub(
            f"HTTP {status} from {redact_url(self.token_url)}: {error} {description}",
            [self.secret],
        ).strip()
        if error == "invalid_scope":
            return PermanentError(
                f"The identity provider refused the scope “{self.scope}”: check "
                "the scope in the connection's settings.",
                detail=detail,
                status=status,
            )
        if error == "unauthorized_client":
            return AuthError(
                "The identity provider does not let this client use the client "
                "credentials grant: ask its administrator to allow it.",
                detail=detail,
                status=status,
            )
        if error == "invalid_client" or status == 401:
            return AuthError(
                "The identity provider refused the client id or secret: check "
                "them in the connection's settings.",
                detail=detail,
                status=status,
            )
        said = (
            f": {scrub(description, [self.secret]).rstrip('.')}."
            if description
            else "."
        )
        return PermanentError(
            f"The identity provider refused the token request (HTTP {status}){said}",
            detail=detail,
            status=status,
        )


def _lifetime(value: Any, default: float = 3600) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


class EntraClientCredentials(TokenAuth):
    """Microsoft Entra ID (Azure AD) app-only tokens, through msal.

    ``authority`` is a tenant ID or domain (``contoso.onmicrosoft.com``) or
    a full https authority URL. msal keeps the tokens in its own cache; the
    ``ConfidentialClientApplication`` is shared per authority, client and
    secret, and its HTTP goes through ``HttpClient``.
    """

    def __init__(
        self,
        authority: str,
        client_id: str,
        client_secret: str,
        scope: str | Iterable[str],
        *,
        verify: bool | str = True,
        timeout: Timeout | None = None,
    ) -> None:
        authority = authority.strip().rstrip("/")
        if not authority.startswith("https://"):
            authority = f"{ENTRA_AUTHORITY_HOST}/{authority}"
        parse_target(authority)
        self.authority = authority
        self.client_id = client_id
        self.secret = client_secret
        self.scopes = scope.split() if isinstance(scope, str) else list(scope)
        self.verify = verify
        self.timeout = timeout
        self._key = (
            "entra",
            authority,
            client_id,
            _fingerprint(client_secret),
            repr(verify),
        )

    def __repr__(self) -> str:
        return f"EntraClientCredentials({self.authority!r}, {self.client_id!r})"

    def token(self, stale: str | None = None) -> str:
        with _lock_for(self._key):
            app = self._app()
            if stale:
                cache = app.token_cache
                for item in list(
                    cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)
                ):
                    if item.get("secret") == stale:
                        cache.remove_at(item)
            try:
                result = app.acquire_token_for_client(scopes=self.scopes)
            except requests.HTTPError as error:
                raise _entra_unavailable(error) from None
        if "access_token" in result:
            return str(result["access_token"])
        raise self._refused(result)

    def _app(self) -> msal.ConfidentialClientApplication:
        app = _entra_apps.get(self._key)
        if app is not None:
            return app
        client = HttpClient(
            verify=self.verify,
            timeout=self.timeout,
            system_label="Microsoft Entra ID",
        )
        try:
            app = msal.ConfidentialClientApplication(
                self.client_id,
                client_credential=self.secret,
                authority=self.authority,
                http_client=_MsalHttp(client, self.secret),
                # The authority is configured by an admin; skip the extra
                # call to Microsoft's instance discovery endpoint.
                instance_discovery=False,
            )
        except requests.HTTPError as error:
            raise _entra_unavailable(error) from None
        except ValueError as error:
            raise PermanentError(
                f"Microsoft Entra ID does not know the tenant of “{self.authority}”: "
                "check the tenant ID of the connection.",
                detail=scrub(str(error), [self.secret])[:1000],
            ) from None
        _entra_apps[self._key] = app
        return app

    def _refused(self, result: dict[str, Any]) -> ConnectorError:
        error = str(result.get("error") or "")
        description = scrub(str(result.get("error_description") or ""), [self.secret])
        detail = f"{error}: {description}"[:1000]
        if error in ("invalid_client", "unauthorized_client"):
            return AuthError(
                "Microsoft Entra ID refused the client id or secret: check them "
                "in the connection's settings (the secret may have expired).",
                detail=detail,
            )
        if error == "invalid_scope":
            return PermanentError(
                f"Microsoft Entra ID refused the scope “{' '.join(self.scopes)}”: "
                "check the scope in the connection's settings.",
                detail=detail,
            )
        if error in ("temporarily_unavailable", "server_error"):
            return TransientError(
                "Microsoft Entra ID is temporarily unavailable.", detail=detail
            )
        first_line = description.splitlines()[0] if description else error
        return PermanentError(
            f"Microsoft Entra ID refused the token request: {first_line}",
            detail=detail,
        )


def _entra_unavailable(error: requests.HTTPError) -> TransientError:
    status = error.response.status_code if error.response is not None else None
    return TransientError(
        f"Microsoft Entra ID is not answering properly (HTTP {status}).",
        status=status,
    )


class _MsalHttp:
    """msal's small HTTP interface on top of HttpClient (guard, timeouts, logs)."""

    def __init__(self, client: HttpClient, secret: str) -> None:
        self._client = client
        self._secret = secret

    def post(
        self, url: str, params: Any = None, data: Any = None, **kwargs: Any
    ) -> requests.Response:
        return self._send("POST", url, params, data=data, **kwargs)

    def get(self, url: str, params: Any = None, **kwargs: Any) -> requests.Response:
        return self._send("GET", url, params, **kwargs)

    def _send(
        self,
        method: str,
        url: str,
        params: Any,
        data: Any = None,
        headers: dict[str, Any] | None = None,
        timeout: Any = None,
        **ignored: Any,
    ) -> requests.Response:
        return self._client.request(
            method,
            url,
            params=params,
            data=data,
            headers={k: str(v) for k, v in (headers or {}).items() if v is not None},
            timeout=timeout,
            raise_errors=False,  # msal reads the OAuth error bodies itself
            redact=[self._secret],
        )

    def close(self) -> None:
        self._client.close()
