"""Static credentials: user name and password, API key, bearer token."""

from __future__ import annotations

import base64
from typing import Literal

import requests
from requests.auth import AuthBase

ENTRA_AUTHORITY_HOST = "https://login.microsoftonline.com"


# --- Static credentials ---------------------------------------------------------------


class BasicAuth(AuthBase):
    """HTTP Basic authentication (user name and password, UTF-8)."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        pair = f"{self.username}:{self.password}".encode()
        r.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return r

    def secret_values(self) -> list[str]:
        return [self.password]

    def __repr__(self) -> str:
        return f"BasicAuth({self.username!r}, ***)"


class ApiKeyAuth(AuthBase):
    """An API key in a header (``X-API-Key: ...``) or a query parameter."""

    def __init__(
        self, name: str, value: str, location: Literal["header", "query"] = "header"
    ) -> None:
        if location not in ("header", "query"):
            raise ValueError(f"location must be header or query, not {location!r}")
        self.name = name
        self.value = value
        self.location = location

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.location == "header":
            r.headers[self.name] = self.value
        else:
            r.prepare_url(r.url, {self.name: self.value})
        return r

    def secret_values(self) -> list[str]:
        return [self.value]

    def __repr__(self) -> str:
        return f"ApiKeyAuth({self.name!r}, ***, {self.location!r})"


class BearerAuth(AuthBase):
    """A fixed bearer token (``Authorization: Bearer ...``)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r

    def secret_values(self) -> list[str]:
        return [self.token]

    def __repr__(self) -> str:
        return "BearerAuth(***)"
