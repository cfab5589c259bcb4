"""A connector that exists only to test the framework around connectors.

It has what real connectors have (a nested auth block told apart by a
``type``, secrets at two depths, a list and a choice) but talks to nothing:
its check succeeds or fails by the settings it is given.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr

from connectors.base import CheckResult, Config, Connector
from connectors.errors import AuthError


class NoAuth(BaseModel):
    type: Literal["none"] = "none"


class BasicAuth(BaseModel):
    type: Literal["basic"] = "basic"
    username: str = Field(title="User name")
    password: SecretStr = Field(title="Password")


class SampleConfig(Config):
    base_url: str = Field(title="Address", description="Where the system answers.")
    region: Literal["eu", "us"] = Field("eu", title="Region")
    tags: list[str] = Field(default_factory=list, title="Tags")
    api_key: SecretStr | None = Field(None, title="API key")
    auth: Annotated[NoAuth | BasicAuth, Field(discriminator="type")] = Field(
        default_factory=NoAuth, title="Sign-in"
    )


class SampleConnector(Connector):
    key = "sample"
    label = "Sample system"
    category = "generic"
    description = "A stand-in system for the framework's tests."
    icon = "plug"
    Config = SampleConfig

    def check(self) -> CheckResult:
        auth = self.config.auth
        if isinstance(auth, BasicAuth) and auth.password.get_secret_value() == "wrong":
            raise AuthError("Sample system refused the user name or password.")
        return CheckResult(f"Reached {self.config.base_url}")
