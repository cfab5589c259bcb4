"""Encryption of connection secrets with MultiFernet.

Keys come from ``XCONNECTOR_FERNET_KEYS`` (newest first), never from
``SECRET_KEY``. New secrets are encrypted with the newest key; any listed key
decrypts. ``manage.py rotate_keys`` re-encrypts every secret with the newest
key, after which older keys can be removed from the setting.
"""

from __future__ import annotations

from functools import cache

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "XCONNECTOR_FERNET_KEYS holds a key that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; make one with "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        ) from error


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.XCONNECTOR_FERNET_KEYS))


class SecretsUnreadable(Exception):
    """No configured key opens the stored secrets (a key was removed early)."""


def encrypt(values: dict[str, str]) -> str:
    if not values:
        return ""
    return fernet().encrypt(orjson.dumps(values)).decode()


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return orjson.loads(fernet().decrypt(token.encode()))
    except InvalidToken:
        raise SecretsUnreadable(
            "The stored secrets cannot be decrypted with the keys in "
            "XCONNECTOR_FERNET_KEYS: put back the key they were encrypted "
            "with, or enter the secrets again."
        ) from None


def rotate(token: str) -> str:
    """The same secrets, encrypted with the newest key."""
    if not token:
        return ""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretsUnreadable(
            "The stored secrets cannot be decrypted with the keys in "
            "XCONNECTOR_FERNET_KEYS."
        ) from None
