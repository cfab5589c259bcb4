"""The inbound webhook connector: authenticate one delivery, turn it into an event.

A connection of this connector is an address (``/hooks/<connection id>/``)
that a sending system posts to. The ``receive`` trigger (method
``receive_delivery``; ``Connector.receive`` is the validating entry point
that calls it) checks that the sender knows the connection's secret in the
way ``verification`` says, parses the body and returns one ``TriggerEvent``
whose ``event_id`` is stable across repeats of the same delivery (a header,
a field of the body, or the body's SHA-256). Storing deliveries and dropping
repeats is ``connectors.webhook.delivery``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal
from urllib.parse import parse_qsl

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from connectors.base import (
    CheckResult,
    Config,
    Connector,
    Empty,
    InboundRequest,
    TriggerEvent,
    trigger,
)
from connectors.errors import AuthError, PermanentError
from connectors.webhook.signatures import (
    GITHUB_HEADER,
    check_github,
    check_shared,
    check_standard,
    is_whsec,
)

Verification = Literal[
    "none", "shared_secret_header", "shared_secret_query", "github", "standard_webhooks"
]
DEFAULT_EVENT_ID = {"standard_webhooks": "webhook-id", "github": "X-GitHub-Delivery"}
MODE_LABELS: dict[str, str] = {
    "none": "No verification",
    "shared_secret_header": "Shared secret in a header",
    "shared_secret_query": "Shared secret in the query string",
    "github": "GitHub signature (X-Hub-Signature-256)",
    "standard_webhooks": "Standard Webhooks signature",
}
MAX_EVENT_ID_LENGTH = 200  # InboundDelivery.event_id
MAX_FORM_FIELDS = 1000
# Header or query names containing any of these, or having one of
# SENSITIVE_WORDS between dashes, dots or underscores, never reach a payload.
SENSITIVE_NAME_PARTS = (
    "authorization",
    "cookie",
    "signature",
    "secret",
    "token",
    "password",
    "passwd",
    "credential",
    "session",
    "apikey",
    "api-key",
    "api_key",
    "hmac",
)
SENSITIVE_WORDS = {"auth", "key", "sig", "pass", "pwd"}
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
FORM_TYPE = "application/x-www-form-urlencoded"
SECRET_MASK = "(secret removed)"  # noqa: S105 -- a mask, not a password


class WebhookSettings(Config):
    """How a sender proves that it may post to this webhook."""

    # Errors about the secret must not print the secret (str(ValidationError)).
    model_config = ConfigDict(hide_input_in_errors=True)

    verification: Verification = Field(
        title="Verification",
        json_schema_extra={"choice_labels": MODE_LABELS},
        description=(
            "How the sender proves it knows this webhook's secret. Use the "
            "signature the sending system offers; “No verification” lets "
            "anyone who learns the address start runs."
        ),
    )
    header_name: str = Field(
        "X-Webhook-Secret",
        title="Secret header",
        description="The header that carries the shared secret.",
        json_schema_extra={"show_when": {"verification": ["shared_secret_header"]}},
        max_length=100,
    )
    query_param: str = Field(
        "token",
        title="Secret query parameter",
        description="The query parameter that carries the shared secret.",
        json_schema_extra={"show_when": {"verification": ["shared_secret_query"]}},
        min_length=1,
        max_length=100,
    )
    secret: SecretStr | None = Field(
        None,
        validate_default=True,
        title="Secret",
        json_schema_extra={
            "show_when": {"verification": [m for m in MODE_LABELS if m != "none"]}
        },
        description=(
            "The secret shared with the sender. Standard Webhooks secrets look "
            "like whsec_ followed by base64."
        ),
    )
    event_id_source: str = Field(
        "",
        title="Event id from",
        description=(
            "A header name (webhook-id, X-GitHub-Delivery) or a dotted path in "
            "the JSON body (id, data.event_id); put header: or body: in front "
            "when in doubt. Empty: the signature's own id (webhook-id, "
            "X-GitHub-Delivery), else the SHA-256 of the body, so that only "
            "identical bodies count as repeats."
        ),
        max_length=200,
    )

    @field_validator("header_name")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not HEADER_NAME.match(value):
            raise _invalid(
                "must be a header name such as X-Webhook-Secret (letters, digits and -)"
            )
        return value

    @field_validator("event_id_source")
    @classmethod
    def _event_id_source(cls, value: str) -> str:
        if value:
            try:
                event_id_rule(value)
            except ValueError as error:
                raise _invalid(str(error)) from None
        return value

    @field_validator("secret")
    @classmethod
    def _secret_matches_mode(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        mode = info.data.get("verification")
        if mode in (None, "none"):  # None: the mode itself was invalid
            return value
        secret = value.get_secret_value() if value else ""
        if not secret:
            raise _invalid(
                f"“{MODE_LABELS[mode]}” needs a secret: enter the secret "
                "shared with the sender"
            )
        if mode == "standard_webhooks" and not is_whsec(secret):
            raise _invalid(
                "a Standard Webhooks secret starts with whsec_ followed by "
                "base64: copy it as the sending system shows it"
            )
        return value


class WebhookPayload(BaseModel):
    """What a run started by a webhook sees of the delivery."""

    body: dict[str, Any] | list[Any] = Field(
        title="Body", description="The JSON body, or the form fields, as posted."
    )
    headers: dict[str, str] = Field(
        title="Headers",
        description="Request headers (lower-case), without credentials.",
    )
    query: dict[str, str] = Field(
        title="Query parameters",
        description="Query string parameters, without the secret.",
    )


class WebhookConnector(Connector):
    """Receives deliveries posted to /hooks/<connection id>/."""

    key = "webhook"
    label = "Webhook (inbound)"
    version = "1.0"
    category = "generic"
    icon = "webhook"
    description = (
        "Start a flow when another system posts a signed webhook to xConnector."
    )
    Config = WebhookSettings
    config: WebhookSettings

    def check(self) -> CheckResult:
        mode = self.config.verification
        messages = {
            "none": (
                "Ready to receive webhooks without verification: anyone who "
                "knows the address can start a run."
            ),
            "shared_secret_header": (
                "Ready to receive webhooks that carry the shared secret in the "
                f"{self.config.header_name} header."
            ),
            "shared_secret_query": (
                "Ready to receive webhooks that carry the shared secret in the "
                f"“{self.config.query_param}” query parameter."
            ),
            "github": (
                "Ready to receive webhooks signed with GitHub's X-Hub-Signature-256."
            ),
            "standard_webhooks": (
                "Ready to receive Standard Webhooks signed with this secret "
                "(webhook-id, webhook-timestamp, webhook-signature)."
            ),
        }
        return CheckResult(messages[mode])

    @trigger(
        "receive",
        "When a webhook arrives",
        kind="webhook",
        description="Runs once per delivery; repeats of the same event are dropped.",
        output=WebhookPayload,
    )
    def receive_delivery(
        self, params: Empty, request: InboundRequest
    ) -> list[TriggerEvent]:
        headers = {name.lower(): value for name, value in request.headers.items()}
        self._verify(request, headers)
        body = parse_body(request.body, headers.get("content-type", ""))
        event_id = self._event_id(request.body, headers, body)
        secret = self.config.secret.get_secret_value() if self.config.secret else ""
        payload = {
            "body": _scrub(body, secret) if secret else body,
            "headers": self._safe(headers, extra={self.config.header_name.lower()}),
            "query": self._safe(request.query, extra={self.config.query_param.lower()}),
        }
        return [TriggerEvent(event_id=event_id, payload=payload)]

    # -- Verification --

    def _verify(self, request: InboundRequest, headers: dict[str, str]) -> None:
        mode = self.config.verification
        if mode == "none":
            return
        secret = self.config.secret.get_secret_value() if self.config.secret else ""
        if not secret:  # the settings validator prevents this; never verify with ""
            raise AuthError("This webhook has no secret to check deliveries with.")
        if mode == "shared_secret_header":
            name = self.config.header_name
            check_shared(headers.get(name.lower()), secret, f"{name} header")
        elif mode == "shared_secret_query":
            name = self.config.query_param
            received = request.query.get(name)
            check_shared(received, secret, f"“{name}” query parameter")
        elif mode == "github":
            check_github(request.body, headers.get(GITHUB_HEADER), secret)
        else:
            check_standard(request.body, headers, secret)

    # -- Payload --

    def _safe(self, values: Any, *, extra: set[str]) -> dict[str, str]:
        """Headers or query parameters that carry no credential."""
        secret = self.config.secret.get_secret_value() if self.config.secret else ""
        kept = {}
        for name, value in values.items():
            lower = name.lower()
            if lower in extra or _sensitive(lower):
                continue
            if secret and secret in value:
                continue  # a credential under an innocent name
            kept[name] = value
        return dict(sorted(kept.items()))

    def _event_id(
        self, raw: bytes, headers: dict[str, str], body: dict[str, Any] | list[Any]
    ) -> str:
        # The signing schemes carry an id of their own: use it unless told.
        source = self.config.event_id_source or DEFAULT_EVENT_ID.get(
            self.config.verification, ""
        )
        if not source:
            return "sha256:" + hashlib.sha256(raw).hexdigest()
        where, name = event_id_rule(source)
        if where == "header":
            value = headers.get(name.lower(), "").strip()
            if not value:
                raise PermanentError(
                    f"The delivery has no {name} header to take its event id from."
                )
        else:
            value = _lookup(body, name)
        if len(value) > MAX_EVENT_ID_LENGTH:
            raise PermanentError(
                f"The event id from {source} is longer than "
                f"{MAX_EVENT_ID_LENGTH} characters."
            )
        return value


# --- Helpers -----------------------------------------------------


def _scrub(value: Any, secret: str) -> Any:
    """``value`` with any text that contains the secret replaced by a mask.

    Some senders repeat their token in the body; it must not reach a run.
    """
    if isinstance(value, str):
        return SECRET_MASK if secret in value else value
    if isinstance(value, dict):
        return {key: _scrub(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, secret) for item in value]
    return value


def _invalid(message: str) -> PydanticCustomError:
    """A settings error whose message reads without pydantic's prefix."""
    return PydanticCustomError("invalid", message)


def _sensitive(name: str) -> bool:
    """Whether a (lower-case) header or parameter name suggests a credential."""
    if any(part in name for part in SENSITIVE_NAME_PARTS):
        return True
    return not SENSITIVE_WORDS.isdisjoint(re.split(r"[-_.]", name))


# --- Body and event id --------------------------------------------------------


def parse_body(raw: bytes, content_type: str) -> dict[str, Any] | list[Any]:
    """The body as JSON (object or array), or form fields when form-encoded."""
    if content_type.split(";")[0].strip().lower() == FORM_TYPE:
        return _parse_form(raw)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise PermanentError(
            f"The body is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})."
        ) from None
    if not isinstance(value, dict | list):
        kind = {str: "a string", bool: "true or false", type(None): "null"}.get(
            type(value), "a number"
        )
        raise PermanentError(f"The body must be a JSON object or array, not {kind}.")
    return value


def _parse_form(raw: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise PermanentError("The form body is not UTF-8 text.") from None
    except ValueError:
        raise PermanentError(
            f"The form body has more than {MAX_FORM_FIELDS} fields."
        ) from None
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name not in fields:
            fields[name] = value
        elif isinstance(fields[name], list):
            fields[name].append(value)
        else:
            fields[name] = [fields[name], value]
    return fields


def event_id_rule(source: str) -> tuple[Literal["header", "body"], str]:
    """Where ``event_id_source`` points: ("header", name) or ("body", path).

    ``header:`` and ``body:`` say it outright. Otherwise a name with a dash
    and no dot is a header (``webhook-id``, ``X-GitHub-Delivery``) and
    anything else a path in the body (``id``, ``data.event_id``).
    """
    prefix, _, rest = source.partition(":")
    if rest and prefix.strip().lower() in ("header", "body"):
        where = prefix.strip().lower()
        name = rest.strip()
    else:
        where = "header" if "-" in source and "." not in source else "body"
        name = source.strip()
    if where == "header":
        if not HEADER_NAME.match(name):
            raise ValueError(f"“{name}” is not a header name")
        return "header", name
    if not name or any(not part for part in name.split(".")):
        raise ValueError(f"“{name}” is not a dotted path such as data.id")
    return "body", name


def _lookup(body: Any, path: str) -> str:
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise PermanentError(f"The body has no “{path}” to take the event id from.")
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise PermanentError(
            f"“{path}” in the body is not a text or a whole number, so it "
            "cannot be the event id."
        )
    return str(value)
