"""The settings half: ``AuthSettings`` for a connector's Config, and
``build_auth`` that turns them into a scheme."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from requests.auth import AuthBase

from connectors.auth.schemes import ApiKeyAuth, BasicAuth, BearerAuth
from connectors.auth.tokens import EntraClientCredentials, OAuth2ClientCredentials
from connectors.http.client import Timeout
from connectors.http.safety import web_address

ENTRA_AUTHORITY_HOST = "https://login.microsoftonline.com"

# --- Settings -------------------------------------------------------------------------


class _Scheme(BaseModel):
    # Extra keys are ignored, not refused: a secret stored for the scheme
    # used before (auth__password after a switch to bearer) must not make
    # the connection unreadable.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class NoAuthSettings(_Scheme):
    """No authentication."""

    model_config = ConfigDict(title="No authentication")
    type: Literal["none"] = "none"


class BasicAuthSettings(_Scheme):
    """HTTP Basic: a user name and a password."""

    model_config = ConfigDict(title="User name and password")
    type: Literal["basic"] = "basic"
    username: str = Field(min_length=1, title="User name")
    password: SecretStr = Field(title="Password")


class ApiKeySettings(_Scheme):
    """An API key in a header or a query parameter."""

    model_config = ConfigDict(title="API key")
    type: Literal["api_key"] = "api_key"
    name: str = Field(
        "X-API-Key",
        min_length=1,
        title="Header or parameter name",
        description="The header or query parameter that carries the key.",
    )
    location: Literal["header", "query"] = Field("header", title="Send the key as")
    value: SecretStr = Field(title="API key")


class BearerSettings(_Scheme):
    """A fixed bearer token."""

    model_config = ConfigDict(title="Bearer token")
    type: Literal["bearer"] = "bearer"
    token: SecretStr = Field(title="Token")


class OAuth2ClientCredentialsSettings(_Scheme):
    """OAuth 2.0 client credentials from any identity provider."""

    model_config = ConfigDict(title="OAuth 2.0 client credentials")
    type: Literal["oauth2_client_credentials"] = "oauth2_client_credentials"
    token_url: str = Field(
        title="Token URL", description="The identity provider's token endpoint."
    )
    client_id: str = Field(min_length=1, title="Client ID")
    client_secret: SecretStr = Field(title="Client secret")
    scope: str = Field("", title="Scope", description="Space-separated; optional.")
    client_auth: Literal["basic", "body"] = Field(
        "basic",
        title="Send the client credentials",
        description="In an Authorization header (basic) or in the form body (body).",
    )

    @field_validator("token_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return web_address(value)


class EntraSettings(_Scheme):
    """An app registered in Microsoft Entra ID (Dynamics 365, Graph, ...)."""

    model_config = ConfigDict(title="Microsoft Entra ID app")
    type: Literal["entra_client_credentials"] = "entra_client_credentials"
    tenant: str = Field(
        min_length=1,
        title="Tenant",
        description="The directory (tenant) ID or domain, or a full authority URL.",
    )
    client_id: str = Field(min_length=1, title="Client ID")
    client_secret: SecretStr = Field(title="Client secret")
    scope: str = Field(
        min_length=1,
        title="Scope",
        description="Usually https://<resource>/.default, e.g. "
        "https://contoso.crm.dynamics.com/.default.",
    )


AuthSettings = Annotated[
    NoAuthSettings
    | BasicAuthSettings
    | ApiKeySettings
    | BearerSettings
    | OAuth2ClientCredentialsSettings
    | EntraSettings,
    Field(discriminator="type"),
]


def build_auth(
    settings: BaseModel | None,
    *,
    verify: bool | str = True,
    timeout: Timeout | None = None,
) -> AuthBase | None:
    """The auth scheme that ``settings`` (an ``AuthSettings``) describes, or
    None for no authentication. ``verify`` and ``timeout`` apply to token
    requests."""
    match settings:
        case BasicAuthSettings():
            return BasicAuth(settings.username, settings.password.get_secret_value())
        case ApiKeySettings():
            return ApiKeyAuth(
                settings.name, settings.value.get_secret_value(), settings.location
            )
        case BearerSettings():
            return BearerAuth(settings.token.get_secret_value())
        case OAuth2ClientCredentialsSettings():
            return OAuth2ClientCredentials(
                settings.token_url,
                settings.client_id,
                settings.client_secret.get_secret_value(),
                settings.scope or None,
                client_auth=settings.client_auth,
                verify=verify,
                timeout=timeout,
            )
        case EntraSettings():
            return EntraClientCredentials(
                settings.tenant,
                settings.client_id,
                settings.client_secret.get_secret_value(),
                settings.scope,
                verify=verify,
                timeout=timeout,
            )
    return None
