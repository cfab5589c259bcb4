"""Authentication schemes shared by connectors, as ``requests`` auth objects.

Each scheme is built from plain values and handed to ``HttpClient(auth=...)``:
``BasicAuth``, ``ApiKeyAuth``, ``BearerAuth``, ``OAuth2ClientCredentials``
and ``EntraClientCredentials``. Every scheme offers ``secret_values()``, so
the client can keep those values out of logs and error messages.

The two token schemes fetch a bearer token, keep it until shortly before it
expires (shared in-process by every connection with the same token URL,
client and scope; thread-safe) and, when the API answers 401, fetch a new
one and retry the request once. Token requests go through ``HttpClient`` as
well, so the SSRF guard covers the identity provider too.

``AuthSettings`` is the settings half: a pydantic union told apart by
``type`` (none, basic, api_key, bearer, oauth2_client_credentials,
entra_client_credentials), with secrets typed ``SecretStr``, for a
connector's Config to embed (``auth: AuthSettings``). ``build_auth(settings)``
turns it into a scheme.
"""

from __future__ import annotations

from connectors.auth.schemes import ApiKeyAuth, BasicAuth, BearerAuth
from connectors.auth.settings import (
    ApiKeySettings,
    AuthSettings,
    BasicAuthSettings,
    BearerSettings,
    EntraSettings,
    NoAuthSettings,
    OAuth2ClientCredentialsSettings,
    build_auth,
)
from connectors.auth.tokens import (
    ENTRA_AUTHORITY_HOST,
    EntraClientCredentials,
    OAuth2ClientCredentials,
    TokenAuth,
    forget_tokens,
)

__all__ = [
    "ENTRA_AUTHORITY_HOST",
    "ApiKeyAuth",
    "ApiKeySettings",
    "AuthSettings",
    "BasicAuth",
    "BasicAuthSettings",
    "BearerAuth",
    "BearerSettings",
    "EntraClientCredentials",
    "EntraSettings",
    "NoAuthSettings",
    "OAuth2ClientCredentials",
    "OAuth2ClientCredentialsSettings",
    "TokenAuth",
    "build_auth",
    "forget_tokens",
]
