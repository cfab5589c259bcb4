"""The Connector contract: what every system plugged into xConnector provides.

A connector is a subclass of ``Connector`` in a package of its own
(``connectors/<key>/``, or a separate distribution registered under the
entry-point group ``xconnector.connectors``). Its class MUST declare:

- ``key`` (lower-case letters, digits and ``_``; unique and never changed
  once connections use it), ``label``, ``version``, ``category`` (one of
  ``CATEGORIES``), ``description`` (one sentence for business users) and
  ``icon`` (a name from the vendored icon sprite);
- ``Config``: a pydantic model of a connection's settings. Secret values
  (passwords, client secrets, API keys, signing secrets) MUST be typed
  ``SecretStr``: they are then stored encrypted, never rendered, logged,
  exported or put in audit events. Every field SHOULD have a ``title`` and,
  where it helps, a ``description``: the connection form is generated from
  them;
- ``check()``: prove the settings work with the least intrusive call the
  system offers (sign in, read one item), and return a ``CheckResult``
  whose message names what was reached. It MUST raise a ``ConnectorError``
  (``connectors.errors``) when it fails, and MUST finish within
  ``CHECK_TIMEOUT`` seconds;
- its actions (``@action``) and triggers (``@trigger``), each with pydantic
  input/output models whose JSON Schema the flow designer and the API show.

An action method receives its validated input and an ``ActionContext``; it
MUST be safe to call again with the same ``context.idempotency_key`` after a
crash (search before create, or an idempotency header the system honours),
MUST raise ``TransientError`` only when trying again later can succeed and
``PermanentError`` otherwise, and SHOULD stream documents (``Document``)
rather than hold their bytes. A poll trigger returns new events and the next
cursor; a webhook trigger authenticates and parses one inbound request. Both
MUST give every event an ``event_id`` that is stable across repeats, so that
a repeated delivery is dropped, not run twice.

All outbound HTTP MUST go through ``connectors.http`` (timeouts, SSRF guard,
secrets kept out of logs). Connectors MUST NOT import ``integrations`` or
``workspaces``; they MAY record audit events through ``audit.services``.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from pydantic_core import to_jsonable_python

from connectors.errors import ConnectorError, PermanentError

CATEGORIES = {
    "ecm": "Content & records",
    "erp": "Business applications",
    "output": "Document output",
    "b2b": "B2B & EDI",
    "generic": "Any system",
}
CHECK_TIMEOUT = 10  # seconds: the "Test connection" button waits this long
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


SEP = "__"  # joins the names of nested settings: ``auth__password``


class Config(BaseModel):
    """Base of every connector's settings model. Unknown fields are refused.

    Secrets may sit in nested models (an ``auth`` block, say); they are
    stored apart from the other settings under flat names that join the
    path with ``SEP`` (``auth__client_secret``).
    """

    # Pydantic quotes the input in its errors: never, since it holds secrets.
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True
    )

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """Flat names of every field typed ``SecretStr``, at any depth."""
        return tuple(dict.fromkeys(_secret_names(cls, "")))

    @classmethod
    def from_parts(
        cls, settings: Mapping[str, Any], secrets: Mapping[str, str]
    ) -> Config:
        """Validate stored settings plus decrypted secrets (flat names)."""
        data = copy.deepcopy(dict(settings))
        for name, value in secrets.items():
            target = data
            *path, last = name.split(SEP)
            for part in path:
                if not isinstance(target.get(part), dict):
                    target[part] = {}  # a section sent as text: its fields say why
                target = target[part]
            target[last] = value
        return cls.model_validate(data)

    def public_settings(self) -> dict[str, Any]:
        """The settings without any secret, as JSON-ready data."""
        return _public(self)

    def secret_values(self) -> dict[str, str]:
        """The secrets in clear text by flat name, for encryption only."""
        return dict(_secrets(self, ""))


def _field_models(annotation: Any) -> list[type[BaseModel]]:
    found = []
    for arg in (annotation, *get_args(annotation)):
        for inner in (arg, *get_args(arg)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                found.append(inner)
    return found


def _secret_names(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if annotation is SecretStr or SecretStr in get_args(annotation):
            yield f"{prefix}{name}"
        for nested in _field_models(annotation):
            yield from _secret_names(nested, f"{prefix}{name}{SEP}")


def _public(model: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            continue
        data[name] = (
            _public(value)
            if isinstance(value, BaseModel)
            else to_jsonable_python(value)
        )
    return data


def _secrets(model: BaseModel, prefix: str) -> Iterator[tuple[str, str]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            yield f"{prefix}{name}", value.get_secret_value()
        elif isinstance(value, BaseModel):
            yield from _secrets(value, f"{prefix}{name}{SEP}")


# --- Documents ------------------------------------------------------------------


class Document:
    """A document on the move: a name, a media type, and its bytes as a stream.

    The bytes are read once, in chunks; ``sha256`` and ``size`` are computed
    while they are read and are available once the stream is exhausted.
    ``max_bytes`` stops an oversized document with a clear error instead of
    filling memory or disk.
    """

    def __init__(
        self,
        name: str,
        chunks: Iterable[bytes],
        *,
        media_type: str = "application/octet-stream",
        size: int | None = None,
        source_ref: str = "",
        max_bytes: int | None = None,
    ) -> None:
        self.name = name
        self.media_type = media_type
        self.declared_size = size
        self.source_ref = source_ref
        self.max_bytes = max_bytes
        self._chunks = chunks
        self._digest = hashlib.sha256()
        self._read = 0
        self._consumed = False
        self._exhausted = False

    @classmethod
    def from_bytes(cls, name: str, data: bytes, **kwargs: Any) -> Document:
        return cls(name, [data], size=len(data), **kwargs)

    @classmethod
    def from_path(cls, path: Path, name: str = "", **kwargs: Any) -> Document:
        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 16):
                    yield chunk

        return cls(name or path.name, chunks(), size=path.stat().st_size, **kwargs)

    def __iter__(self) -> Iterator[bytes]:
        if self._consumed:
            raise RuntimeError(f"The stream of {self.name} was already read.")
        self._consumed = True
        for chunk in self._chunks:
            self._read += len(chunk)
            if self.max_bytes is not None and self._read > self.max_bytes:
                raise PermanentError(
                    f"{self.name} is larger than the {self.max_bytes:,} bytes "
                    "allowed for one document."
                )
            self._digest.update(chunk)
            yield chunk
        self._exhausted = True
        if self.declared_size is not None and self._read != self.declared_size:
            raise PermanentError(
                f"{self.name} was cut short: {self._read:,} of "
                f"{self.declared_size:,} bytes arrived."
            )

    def read(self) -> bytes:
        """All the bytes at once: only for small documents and tests."""
        return b"".join(self)

    @property
    def sha256(self) -> str:
        self._require_exhausted()
        return self._digest.hexdigest()

    @property
    def size(self) -> int:
        self._require_exhausted()
        return self._read

    def _require_exhausted(self) -> None:
        if not self._exhausted:
            raise RuntimeError(f"{self.name} has not been read to the end yet.")

    def __repr__(self) -> str:
        return f"<Document {self.name!r} {self.media_type}>"


# --- Actions and triggers ------------------------------------------------------------


class Empty(BaseModel):
    """No input, or no output."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class ActionContext:
    """What an action knows about the run it is part of."""

    idempotency_key: str = ""
    run_id: int | None = None
    correlation_id: str = ""
    documents: list[Document] = field(default_factory=list)


@dataclass
class ActionResult:
    """An action's output data plus the documents it produced."""

    data: BaseModel
    documents: list[Document] = field(default_factory=list)


@dataclass(frozen=True)
class InboundRequest:
    """A webhook delivery, independent of Django: what a trigger may look at."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes
    remote_addr: str = ""


@dataclass
class TriggerEvent:
    """Something that happened in a system and may start a run.

    ``event_id`` MUST be stable across repeated deliveries of the same event.
    """

    event_id: str
    payload: dict[str, Any]
    documents: list[Document] = field(default_factory=list)
    occurred_at: datetime | None = None


@dataclass
class PollResult:
    events: list[TriggerEvent]
    cursor: str | None


@dataclass(frozen=True)
class ActionSpec:
    key: str
    label: str
    description: str
    input: type[BaseModel]
    output: type[BaseModel]
    method: str

    def schemas(self) -> dict[str, Any]:
        return {
            "input": self.input.model_json_schema(),
            "output": self.output.model_json_schema(),
        }


@dataclass(frozen=True)
class TriggerSpec:
    key: str
    label: str
    description: str
    kind: Literal["poll", "webhook"]
    input: type[BaseModel]
    output: type[BaseModel]
    method: str

    def schemas(self) -> dict[str, Any]:
        return {
            "input": self.input.model_json_schema(),
            "output": self.output.model_json_schema(),
        }


def action(
    key: str,
    label: str,
    *,
    description: str = "",
    input: type[BaseModel] = Empty,
    output: type[BaseModel] = Empty,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a connector method as an action of the flow designer."""

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        method._xc_action = (key, label, description, input, output)  # type: ignore[attr-defined]
        return method

    return mark


def trigger(
    key: str,
    label: str,
    *,
    kind: Literal["poll", "webhook"],
    description: str = "",
    input: type[BaseModel] = Empty,
    output: type[BaseModel] = Empty,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a connector method as a trigger (poll or webhook)."""

    def mark(method: Callable[..., Any]) -> Callable[..., Any]:
        method._xc_trigger = (key, label, description, kind, input, output)  # type: ignore[attr-defined]
        return method

    return mark


# --- The connector ---------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """What "Test connection" reached, in one sentence."""

    message: str


class Connector:
    """Base class of every connector; see the module docstring for the contract."""

    key: ClassVar[str]
    label: ClassVar[str]
    version: ClassVar[str] = "1.0"
    category: ClassVar[str] = "generic"
    description: ClassVar[str] = ""
    icon: ClassVar[str] = "plug"
    Config: ClassVar[type[Config]] = Config

    actions: ClassVar[dict[str, ActionSpec]] = {}
    triggers: ClassVar[dict[str, TriggerSpec]] = {}
    # Templates show connector classes; Django would call them otherwise.
    do_not_call_in_templates: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        actions: dict[str, ActionSpec] = {}
        triggers: dict[str, TriggerSpec] = {}
        for name, member in inspect.getmembers(cls, inspect.isfunction):
            if spec := getattr(member, "_xc_action", None):
                key, label, description, input_, output = spec
                actions[key] = ActionSpec(key, label, description, input_, output, name)
            if spec := getattr(member, "_xc_trigger", None):
                key, label, description, kind, input_, output = spec
                triggers[key] = TriggerSpec(
                    key, label, description, kind, input_, output, name
                )
        cls.actions = actions
        cls.triggers = triggers

    def __init__(self, config: Config, *, connection_id: int | None = None) -> None:
        self.config = config
        self.connection_id = connection_id

    def check(self) -> CheckResult:
        raise NotImplementedError

    # -- Calling actions and triggers with validation --

    def run_action(
        self, key: str, params: Mapping[str, Any], context: ActionContext
    ) -> tuple[dict[str, Any], list[Document]]:
        """Validate ``params``, run the action, validate and return its output."""
        spec = self._spec(self.actions, key, "action")
        data = _validated(spec.input, params, f"The input of “{spec.label}”")
        result = getattr(self, spec.method)(data, context)
        if not isinstance(result, ActionResult):
            result = ActionResult(result)
        output = _validated(
            spec.output, result.data.model_dump(), f"The output of “{spec.label}”"
        )
        return output.model_dump(mode="json"), result.documents

    def poll(
        self, key: str, params: Mapping[str, Any], cursor: str | None
    ) -> PollResult:
        spec = self._spec(self.triggers, key, "trigger")
        if spec.kind != "poll":
            raise PermanentError(f"“{spec.label}” is not a polling trigger.")
        data = _validated(spec.input, params, f"The settings of “{spec.label}”")
        return getattr(self, spec.method)(data, cursor)

    def receive(
        self, key: str, params: Mapping[str, Any], request: InboundRequest
    ) -> list[TriggerEvent]:
        spec = self._spec(self.triggers, key, "trigger")
        if spec.kind != "webhook":
            raise PermanentError(f"“{spec.label}” does not receive webhooks.")
        data = _validated(spec.input, params, f"The settings of “{spec.label}”")
        return getattr(self, spec.method)(data, request)

    def acknowledge(
        self,
        key: str,
        params: Mapping[str, Any],
        event: TriggerEvent,
        *,
        ok: bool,
        reason: str = "",
    ) -> None:
        """The run an event started has finished (``ok``) or failed for good.

        A trigger that hands over things it keeps (a file in a drop folder,
        a message in a queue) SHOULD finish them here: move, delete, mark
        read. The default does nothing. It MUST be safe to call twice.
        """

    def _spec(self, specs: Mapping[str, Any], key: str, kind: str) -> Any:
        try:
            return specs[key]
        except KeyError:
            raise PermanentError(
                f"{self.label} has no {kind} “{key}”: the flow may need "
                "updating for a newer connector version."
            ) from None

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The connector as the catalog and the API show it."""
        return {
            "key": cls.key,
            "label": cls.label,
            "version": cls.version,
            "category": cls.category,
            "description": cls.description,
            "icon": cls.icon,
            "config_schema": cls.Config.model_json_schema(),
            "secret_fields": list(cls.Config.secret_fields()),
            "actions": {
                k: {"label": s.label, **s.schemas()} for k, s in cls.actions.items()
            },
            "triggers": {
                k: {"label": s.label, "kind": s.kind, **s.schemas()}
                for k, s in cls.triggers.items()
            },
        }


def _validated(model: type[BaseModel], data: Any, what: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise PermanentError(f"{what} is not valid: {describe_errors(error)}") from None


def describe_errors(error: ValidationError) -> str:
    """Pydantic's errors as one sentence a business user can read.

    Input values are left out: they may be secrets.
    """
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "value"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts) + "."


__all__ = [
    "CATEGORIES",
    "CHECK_TIMEOUT",
    "ActionContext",
    "ActionResult",
    "CheckResult",
    "Config",
    "Connector",
    "ConnectorError",
    "Document",
    "Empty",
    "InboundRequest",
    "PollResult",
    "TriggerEvent",
    "action",
    "trigger",
]
