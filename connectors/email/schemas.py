"""Settings, input and output of the e-mail connector, and what an address is."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.encoding import punycode
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from connectors.base import Config

# "Ada Lovelace <ada@example.com>" or "<ada@example.com>"; a bare address has
# no angle brackets at all.
_NAMED = re.compile(r"^(?P<name>[^<>]*)<(?P<addr>[^<>]*)>$")
_HOST = re.compile(r"^[A-Za-z0-9._:\[\]-]+$")


def split_address(value: str) -> tuple[str, str]:
    """(display name, bare address) of an address that passed validation."""
    if match := _NAMED.match(value):
        return match["name"].strip().strip('"').strip(), match["addr"].strip()
    return "", value


def envelope_address(value: str) -> str:
    """The bare address as SMTP's MAIL FROM / RCPT TO need it (IDN as ASCII)."""
    local, _, domain = split_address(value)[1].rpartition("@")
    return f"{local}@{punycode(domain)}"


def _check_address(value: str) -> str:
    value = value.strip()
    _, bare = split_address(value)
    try:
        if "\r" in value or "\n" in value or ("<" in value and bare == value):
            raise DjangoValidationError("malformed")
        validate_email(bare)
    except DjangoValidationError:
        raise PydanticCustomError(
            "email_address",
            "“{address}” is not a valid e-mail address",
            {"address": value[:200]},
        ) from None
    return value


# An e-mail address, bare ("ada@example.com") or with a display name
# ("Ada Lovelace <ada@example.com>").
EmailAddress = Annotated[str, AfterValidator(_check_address)]


class EmailConfig(Config):
    """How an e-mail connection sends: over an SMTP server, or to the outbox."""

    mode: Literal["smtp", "outbox"] = Field(
        "smtp",
        title="Delivery",
        description=(
            "“smtp” sends through a mail server; “outbox” keeps each message "
            "in this server's local outbox (demo), nothing leaves the server."
        ),
    )
    host: str = Field(
        "",
        title="Mail server",
        description="Host name or IP address of the SMTP server: smtp.example.com.",
        max_length=255,
        validate_default=True,
    )
    port: int = Field(587, title="Port", ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = Field(
        "starttls",
        title="Security",
        description=(
            "“starttls” (usually port 587), “ssl” (usually port 465) or "
            "“none” (a trusted relay on the local network, usually port 25)."
        ),
    )
    username: str = Field(
        "",
        title="User name",
        description="Leave empty if the server accepts mail without signing in.",
        max_length=255,
    )
    password: SecretStr | None = Field(None, title="Password")
    from_address: EmailAddress = Field(
        title="From address",
        description="The sender, e.g. “Invoices <invoices@example.com>”.",
        max_length=300,
    )
    timeout_seconds: int = Field(
        20,
        title="Timeout (seconds)",
        description="How long to wait for each answer of the mail server.",
        ge=1,
        le=300,
    )

    @field_validator("host")
    @classmethod
    def _host_for_smtp(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("mode") == "smtp" and not value:
            raise PydanticCustomError(
                "host_required", "enter the mail server to send over SMTP"
            )
        if value and not _HOST.match(value):
            raise PydanticCustomError(
                "host_invalid",
                "enter a host name or IP address only, without “smtp://” or spaces",
            )
        return value


class SendInput(BaseModel):
    """One e-mail to send; the run's documents become its attachments."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    to: list[EmailAddress] = Field(title="To", min_length=1, max_length=100)
    cc: list[EmailAddress] = Field(default_factory=list, title="Cc", max_length=100)
    bcc: list[EmailAddress] = Field(
        default_factory=list,
        title="Bcc",
        description="Receive the message without appearing in it.",
        max_length=100,
    )
    reply_to: list[EmailAddress] = Field(
        default_factory=list, title="Reply to", max_length=10
    )
    subject: str = Field(title="Subject", max_length=500)
    body_text: str = Field("", title="Text")
    body_html: str | None = Field(
        None,
        title="HTML",
        description="Optional formatted version; mail programs show it instead.",
    )
    attach_documents: bool = Field(
        True,
        title="Attach the documents",
        description="Attach the documents this run carries to the message.",
    )

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # A subject built by a mapping may span lines; a header may not.
        return " ".join(value.split())


class AttachmentInfo(BaseModel):
    """What was attached: enough to prove which bytes went out."""

    name: str
    media_type: str
    size: int
    sha256: str


class SendOutput(BaseModel):
    message_id: str = Field(title="Message-ID")
    recipients: int = Field(title="Recipients", description="To, Cc and Bcc.")
    attachments: list[AttachmentInfo] = Field(title="Attachments")
