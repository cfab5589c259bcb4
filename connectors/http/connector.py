"""The generic "REST API" connector: call any JSON or text web API."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.auth import AuthSettings, NoAuthSettings, build_auth
from connectors.base import (
    CHECK_TIMEOUT,
    ActionContext,
    ActionResult,
    CheckResult,
    Config,
    Connector,
    action,
)
from connectors.http.client import HttpClient
from connectors.http.pagination import MISSING, Pagination, dig, fetch_pages
from connectors.http.safety import parse_target, web_address

JsonValue = Any
_CREDENTIAL_HEADERS = (
    "authorization",
    "cookie",
    "api-key",
    "apikey",
    "token",
    "secret",
)


class HttpConfig(Config):
    """Settings of a REST API connection."""

    base_url: str = Field(
        title="Base URL",
        description="The address every path is relative to, e.g. "
        "https://api.example.com/v1",
    )
    auth: AuthSettings = Field(default_factory=NoAuthSettings, title="Authentication")
    health_path: str = Field(
        "",
        title="Health check path",
        description="What “Test connection” calls, relative to the base URL; "
        "empty calls the base URL itself.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        title="Default headers",
        description="Sent with every request. Credentials belong in the "
        "authentication fields, where they are kept encrypted.",
    )
    verify_tls: bool = Field(
        True,
        title="Verify TLS certificates",
        description="Turn off only for a test system with a self-signed certificate.",
    )
    connect_timeout: int | None = Field(
        None, ge=1, le=60, title="Connect timeout (seconds)"
    )
    read_timeout: int | None = Field(None, ge=1, le=600, title="Read timeout (seconds)")

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return web_address(value)

    @field_validator("headers")
    @classmethod
    def _no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if any(word in name.lower() for word in _CREDENTIAL_HEADERS):
                raise ValueError(
                    f"“{name}” looks like a credential: put it in the "
                    "authentication fields, which keep it encrypted"
                )
        return value


class RequestInput(BaseModel):
    """One API call, possibly over several pages."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        "GET", title="Method"
    )
    path: str = Field(
        "", title="Path", description="Relative to the base URL, e.g. orders/1001."
    )
    query: dict[str, JsonValue] = Field(default_factory=dict, title="Query parameters")
    headers: dict[str, str] = Field(default_factory=dict, title="Headers")
    body: JsonValue = Field(
        None,
        title="Body",
        description="JSON (an object or a list) or text. None sends no body.",
    )
    pagination: Pagination = Field(default_factory=Pagination, title="Pagination")
    response_mapping: dict[str, str] = Field(
        default_factory=dict,
        title="Response mapping",
        description="Output field -> dotted path into the (last) JSON body.",
    )

    @model_validator(mode="after")
    def _body_fits_method(self) -> Self:
        if self.body is not None and self.method == "GET":
            raise ValueError("a GET request cannot have a body")
        return self


class RequestOutput(BaseModel):
    """What the API answered."""

    status: int = Field(title="HTTP status")
    items: list[JsonValue] = Field(
        default_factory=list, title="Items (all pages together)"
    )
    body: JsonValue = Field(None, title="Body of the last page")
    mapped: dict[str, JsonValue] = Field(default_factory=dict, title="Mapped fields")
    pages: int = Field(1, title="Pages fetched")
    truncated: bool = Field(
        False, title="More pages left", description="The page limit stopped it."
    )


class DownloadInput(BaseModel):
    """One document to fetch with a GET."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        title="Path", description="Relative to the base URL, e.g. documents/a.pdf."
    )
    query: dict[str, JsonValue] = Field(default_factory=dict, title="Query parameters")
    name: str = Field(
        "",
        title="Document name",
        description="Empty takes the name the server gives (or the path's end).",
    )


class DownloadOutput(BaseModel):
    name: str = Field(title="Document name")
    media_type: str = Field(title="Media type")
    size: int | None = Field(None, title="Size the server announced (bytes)")


class HttpConnector(Connector):
    """Any web API: JSON or text, with authentication, pagination and
    response mapping."""

    key = "http"
    label = "REST API"
    version = "1.0"
    category = "generic"
    icon = "api"
    description = (
        "Calls any web API over HTTP(S), with sign-in, pagination and mapping "
        "of the answer."
    )
    Config = HttpConfig

    def __init__(self, config: Config, *, connection_id: int | None = None) -> None:
        super().__init__(config, connection_id=connection_id)
        self._client: HttpClient | None = None

    def client(self) -> HttpClient:
        """The HTTP client of this connection, made on first use."""
        if self._client is None:
            config = self._config()
            self._client = self._new_client(
                (config.connect_timeout, config.read_timeout)
            )
        return self._client

    def check(self) -> CheckResult:
        config = self._config()
        # Keep "Test connection" within CHECK_TIMEOUT whatever the settings say.
        half = CHECK_TIMEOUT / 2
        timeout = (
            min(config.connect_timeout or half, half),
            min(config.read_timeout or half, half),
        )
        with self._new_client(timeout) as client:
            response = client.request("GET", config.health_path)
            response.close()
        host = parse_target(response.url).host
        return CheckResult(f"Reached {host}: HTTP {response.status_code}")

    def _config(self) -> HttpConfig:
        assert isinstance(self.config, HttpConfig)
        return self.config

    def _new_client(self, timeout: tuple[float | None, float | None]) -> HttpClient:
        config = self._config()
        return HttpClient(
            config.base_url,
            auth=build_auth(config.auth, verify=config.verify_tls),
            timeout=timeout,
            headers=config.headers,
            verify=config.verify_tls,
            system_label=parse_target(config.base_url).host,
        )

    @action(
        "request",
        "Call an API",
        description="Sends one request (and fetches the following pages) and "
        "returns the answer.",
        input=RequestInput,
        output=RequestOutput,
    )
    def call(self, data: RequestInput, context: ActionContext) -> RequestOutput:
        headers = dict(data.headers)
        if (
            data.method != "GET"
            and context.idempotency_key
            and not any(name.lower() == "idempotency-key" for name in headers)
        ):
            # APIs that honour it make a repeated call after a crash harmless.
            headers["Idempotency-Key"] = context.idempotency_key
        pages = fetch_pages(
            self.client(),
            data.method,
            data.path,
            data.pagination,
            query=data.query,
            headers=headers,
            **_body(data.body, headers),
        )
        mapped = {}
        for name, path in data.response_mapping.items():
            value = dig(pages.body, path)
            mapped[name] = None if value is MISSING else value
        return RequestOutput(
            status=pages.status,
            items=pages.items,
            body=pages.body,
            mapped=mapped,
            pages=pages.pages,
            truncated=pages.truncated,
        )

    @action(
        "download",
        "Download a document",
        description="Fetches one document with a GET, streamed, for the next "
        "steps to file or send.",
        input=DownloadInput,
        output=DownloadOutput,
    )
    def download(self, data: DownloadInput, context: ActionContext) -> ActionResult:
        document = self.client().stream_download(
            data.path, name=data.name, params=data.query
        )
        output = DownloadOutput(
            name=document.name,
            media_type=document.media_type,
            size=document.declared_size,
        )
        return ActionResult(output, [document])


def _body(body: Any, headers: dict[str, str]) -> dict[str, Any]:
    """Request keyword arguments that send ``body``: text as is, else JSON."""
    if body is None:
        return {}
    if isinstance(body, str):
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "text/plain; charset=utf-8"
        return {"data": body.encode()}
    return {"json": body}
