"""Typed readers for environment variables.

Every setting of xConnector comes from the environment. These helpers turn a
raw string into the type the setting needs and, when the value cannot be
understood, stop start-up with one sentence that names the variable, so an
operator knows exactly what to fix. Each takes an optional ``environ`` mapping
so tests can call them without touching ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(
    name: str, default: str = "", environ: Mapping[str, str] | None = None
) -> str:
    value = _raw(name, environ)
    return default if value is None else value


def env_required(name: str, why: str, environ: Mapping[str, str] | None = None) -> str:
    """Return the variable, or stop start-up saying ``NAME must be set <why>.``"""
    value = _raw(name, environ)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set {why}.")
    return value


def env_bool(
    name: str, default: bool = False, environ: Mapping[str, str] | None = None
) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}."
    )


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}."
        ) from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}.")
    return number


def env_list(
    name: str,
    default: list[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """A comma-separated list; blanks around items are dropped."""
    value = _raw(name, environ)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(
    name: str,
    choices: tuple[str, ...],
    default: str,
    environ: Mapping[str, str] | None = None,
) -> str:
    value = env_str(name, default, environ)
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name} must be one of {', '.join(choices)}, not {value!r}."
        )
    return value


def env_database(
    name: str, default: str, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Parse a database URL: ``postgres://user:pw@host:port/name`` or ``sqlite:///path``."""
    url = env_str(name, default, environ)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in _DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} is not a database URL xConnector understands: expected "
            "postgres://user:password@host:5432/name or sqlite:///path/to/file."
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except Exception as exc:  # the library raises ValueError, KeyError, ...
        raise ImproperlyConfigured(
            f"{name} is not a valid database URL ({exc})."
        ) from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name the database after the last '/'.")
    return config
