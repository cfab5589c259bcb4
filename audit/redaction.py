"""Keep secrets out of the audit trail.

Any key that names a secret (password, token, client secret, API key,
authorization header, private key, ...) has its value replaced, at any depth,
before an event is hashed and stored. Configuration diffs say that a secret
changed, never what it was or became.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

SECRET = "(secret)"  # noqa: S105 (a marker shown instead of a secret)
SECRET_CHANGED = "(secret changed)"  # noqa: S105
SECRET_KEY_PATTERN = re.compile(
    r"pass(word|wd|phrase)?$|secret|token|api[_-]?key|authori[sz]ation|"
    r"private[_-]?key|credential|cookie|signature|fernet|otcsticket|^code$",
    re.IGNORECASE,
)


def is_secret_key(key: str, extra: Iterable[str] = ()) -> bool:
    return key in set(extra) or bool(SECRET_KEY_PATTERN.search(key))


def redact(value: Any, extra_secret_keys: Iterable[str] = ()) -> Any:
    """A copy of ``value`` with every secret-named key's value masked."""
    extra = tuple(extra_secret_keys)
    if isinstance(value, Mapping):
        return {
            key: SECRET
            if is_secret_key(str(key), extra) and not _harmless(value[key])
            else redact(value[key], extra)
            for key in value
        }
    if isinstance(value, list | tuple):
        return [redact(item, extra) for item in value]
    return value


def _harmless(value: Any) -> bool:
    """Empty, or already only markers (a diff's ``{"before": .., "after": ..}``)."""
    if value in (None, "", SECRET, SECRET_CHANGED):
        return True
    if isinstance(value, Mapping):
        return all(_harmless(item) for item in value.values())
    return False


def config_diff(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    secret_fields: Iterable[str] = (),
) -> dict[str, Any]:
    """Before/after of the fields that changed, secrets replaced by a marker.

    A created object has ``before`` None; a deleted one ``after`` None.
    """
    secret = tuple(secret_fields)
    old = dict(before or {})
    new = dict(after or {})
    changed: dict[str, dict[str, Any]] = {}
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name):
            continue
        if is_secret_key(name, secret):
            changed[name] = {"before": SECRET_CHANGED, "after": SECRET_CHANGED}
        else:
            changed[name] = {
                "before": redact(old.get(name), secret),
                "after": redact(new.get(name), secret),
            }
    return {
        "before": None if before is None else redact(old, secret),
        "after": None if after is None else redact(new, secret),
        "changed": changed,
    }
