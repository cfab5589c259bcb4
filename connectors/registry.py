"""Which connectors this installation has: the built-ins plus entry points.

A separate package adds a connector by declaring, in its pyproject.toml::

    [project.entry-points."xconnector.connectors"]
    acme_erp = "acme_xconnector.connector:AcmeErpConnector"

A connector that fails to load (import error, missing attribute, invalid
key) is left out and reported by name through Django's system checks, so one
broken package cannot take the whole product down.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from importlib.metadata import entry_points

from django.core import checks

from connectors.base import CATEGORIES, KEY_PATTERN, Connector
from connectors.errors import PermanentError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "xconnector.connectors"
BUILTINS = {
    "http": "connectors.http.connector:HttpConnector",
    "webhook": "connectors.webhook.connector:WebhookConnector",
    "email": "connectors.email.connector:EmailConnector",
    "files": "connectors.files.connector:FilesConnector",
    "otcs": "connectors.otcs.connector:ContentServerConnector",
    "dynamics": "connectors.dynamics.connector:DynamicsConnector",
    "exstream": "connectors.exstream.connector:ExstreamConnector",
    "tradinggrid": "connectors.tradinggrid.connector:TradingGridConnector",
}


@cache
def _load() -> tuple[dict[str, type[Connector]], dict[str, str]]:
    found: dict[str, type[Connector]] = {}
    broken: dict[str, str] = {}
    sources = [(name, target) for name, target in BUILTINS.items()]
    sources += [(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for name, target in sources:
        try:
            cls = _import(target)
            _validate(cls, name)
        except Exception as error:
            broken[name] = f"{type(error).__name__}: {error}"
            logger.error("connector %s could not be loaded: %s", name, error)
            continue
        if cls.key in found:
            broken[name] = f"key “{cls.key}” is already used by {found[cls.key]!r}"
            continue
        found[cls.key] = cls
    return found, broken


def _import(target: str) -> type[Connector]:
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)


def _validate(cls: object, name: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise TypeError(f"{cls!r} is not a Connector subclass")
    for attribute in ("key", "label", "description"):
        if not getattr(cls, attribute, ""):
            raise TypeError(f"{cls.__name__} has no {attribute}")
    if not KEY_PATTERN.match(cls.key):
        raise ValueError(f"key {cls.key!r} must be lower-case letters, digits or _")
    if cls.category not in CATEGORIES:
        raise ValueError(
            f"category {cls.category!r} is not one of {sorted(CATEGORIES)}"
        )
    cls.describe()  # every schema must build


def connectors() -> dict[str, type[Connector]]:
    """Every loaded connector by key, in catalog order (category, label)."""
    found, _ = _load()
    return dict(
        sorted(found.items(), key=lambda item: (item[1].category, item[1].label))
    )


def broken() -> dict[str, str]:
    """Connectors that failed to load: entry-point name -> reason."""
    return dict(_load()[1])


def get_connector(key: str) -> type[Connector]:
    try:
        return _load()[0][key]
    except KeyError:
        raise PermanentError(
            f"No connector “{key}” is installed here: install its package or "
            "choose another connector."
        ) from None


def reset() -> None:
    """Forget what was loaded (tests that add entry points)."""
    _load.cache_clear()


@checks.register()
def check_connectors(**kwargs: object) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"Connector “{name}” could not be loaded: {reason}",
            hint="Fix or uninstall the package that provides it.",
            id="connectors.E001",
        )
        for name, reason in broken().items()
    ]
