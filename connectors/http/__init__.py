"""Outbound HTTP: the one client every connector uses, and the generic
"REST API" connector (``connectors.http.connector``).

The client lives here rather than in a ``connectors/http.py`` module because
a package and a module cannot share the name ``connectors.http``: import it
as ``from connectors.http import HttpClient``.
"""

from __future__ import annotations

from connectors.http.client import MAX_REDIRECTS, HttpClient, resolve_timeout
from connectors.http.failures import error_text, parse_retry_after
from connectors.http.safety import (
    address_kind,
    is_allowlisted,
    is_secret_header,
    is_secret_param,
    parse_target,
    redact_headers,
    redact_url,
    scrub,
)

__all__ = [
    "MAX_REDIRECTS",
    "HttpClient",
    "address_kind",
    "error_text",
    "is_allowlisted",
    "is_secret_header",
    "is_secret_param",
    "parse_retry_after",
    "parse_target",
    "redact_headers",
    "redact_url",
    "resolve_timeout",
    "scrub",
]
