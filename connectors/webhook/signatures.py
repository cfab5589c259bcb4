"""Checking that a webhook's sender knows its secret, in constant time.

Each ``check_*`` returns quietly or raises ``AuthError`` with a reason that
names what was wrong, never the secret or the signature that was received.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from connectors.errors import AuthError

TOLERANCE_SECONDS = 5 * 60  # Standard Webhooks' own replay window
GITHUB_HEADER = "x-hub-signature-256"
STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MISMATCH = (
    "The signature does not match: the sender does not know this webhook's secret."
)


def same(received: str, expected: str) -> bool:
    """Constant-time comparison of two texts (any characters)."""
    return hmac.compare_digest(received.encode(), expected.encode())


def check_shared(received: str | None, secret: str, where: str) -> None:
    """The secret itself, sent in a header or query parameter (``where``)."""
    if not received:
        raise AuthError(
            f"The delivery has no {where}: the sender must send this "
            "webhook's secret in it."
        )
    if not same(received, secret):
        raise AuthError(
            f"The secret in the {where} does not match: the sender does not "
            "know this webhook's secret."
        )


def check_github(body: bytes, header: str | None, secret: str) -> None:
    """GitHub's ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``."""
    if not header:
        raise AuthError(
            "The delivery has no X-Hub-Signature-256 header: enter this "
            "webhook's secret in the sender's webhook settings."
        )
    scheme, _, received = header.strip().partition("=")
    if scheme != "sha256" or not received:
        raise AuthError("The X-Hub-Signature-256 header is not of the form sha256=…")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not same(received.lower(), expected):
        raise AuthError(MISMATCH)


def check_standard(body: bytes, headers: dict[str, str], secret: str) -> None:
    """Standard Webhooks (standardwebhooks.com): a signed id, time and body."""
    missing = [name for name in STANDARD_HEADERS if not headers.get(name)]
    if missing:
        raise AuthError(
            f"The delivery has no {' or '.join(missing)} header: Standard "
            "Webhooks senders sign every delivery with webhook-id, "
            "webhook-timestamp and webhook-signature."
        )
    # The library checks the window too; checking first gives a clear reason.
    try:
        age = time.time() - float(headers["webhook-timestamp"])
    except ValueError:
        raise AuthError(
            "The webhook-timestamp header is not a Unix time in seconds."
        ) from None
    if age > TOLERANCE_SECONDS:
        raise AuthError(
            "The delivery is older than 5 minutes: it may be a replay of an "
            "old delivery, or the sender's clock is wrong."
        )
    if age < -TOLERANCE_SECONDS:
        raise AuthError(
            "The delivery is dated more than 5 minutes in the future: check "
            "the sender's clock."
        )
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except (WebhookVerificationError, ValueError):
        # ValueError: a malformed signature list, bad base64, a non-UTF-8 body.
        raise AuthError(MISMATCH) from None


def is_whsec(secret: str) -> bool:
    """Whether ``secret`` looks like ``whsec_<base64>``, as the library needs."""
    prefix = "whsec_"
    if not secret.startswith(prefix) or len(secret) == len(prefix):
        return False
    encoded = secret[len(prefix) :]
    try:
        return bool(
            base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        )
    except (binascii.Error, ValueError):
        return False
