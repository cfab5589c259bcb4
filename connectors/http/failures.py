"""Turning HTTP failures into ``connectors.errors`` with plain-words messages.

A request fails in one of two ways: no HTTP answer (timeout, refused
connection, unknown host, TLS) -> ``transport_error``; or an answer with an
error status -> ``status_error``. Messages name the system and what to do,
quote the system's own error text where it has one, and carry no secrets.
"""

from __future__ import annotations

import json as jsonlib
import re
import socket
import ssl
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import NameResolutionError
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

from connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    TransientError,
)
from connectors.http.safety import Target, redact_url, scrub

_ERROR_BODY_LIMIT = 64 * 1024


def no_answer(label: str, seconds: float) -> str:
    """The message for a system that did not answer in time."""
    unit = "second" if seconds == 1 else "seconds"
    return f"{label} did not answer within {seconds:g} {unit}: it may be busy or down."


def transport_error(
    error: requests.RequestException,
    where: str,
    target: Target,
    timeout: tuple[float, float],
    label: str,
) -> ConnectorError:
    """The ConnectorError for a request that got no HTTP answer.

    ``where`` is the method and redacted URL, for the detail.
    """
    causes = list(_causes(error))
    # Not a ConnectTimeoutError found among the causes: urllib3's
    # NewConnectionError (a refused connection) subclasses it.
    if isinstance(error, requests.ConnectTimeout):
        return TransientError(
            no_answer(label, timeout[0]),
            detail=f"{where}: no connection to {target.host_port} "
            f"within {timeout[0]:g} s",
        )
    if isinstance(error, requests.Timeout) or any(
        isinstance(c, Urllib3ReadTimeout | TimeoutError) for c in causes
    ):
        return TransientError(
            no_answer(label, timeout[1]),
            detail=f"{where}: no data within {timeout[1]:g} s",
        )
    if isinstance(error, requests.exceptions.SSLError):
        if any(isinstance(c, ssl.SSLCertVerificationError) for c in causes):
            return PermanentError(
                f"The TLS certificate of {target.host} could not be verified: "
                "it must come from a trusted certificate authority and name "
                "this host.",
                detail=where,
            )
        return TransientError(
            f"The secure connection to {target.host_port} failed.", detail=where
        )
    if isinstance(error, requests.ConnectionError):
        reason = _connect_reason(causes)
        if reason:
            return TransientError(
                f"xConnector could not connect to {target.host_port}: {reason}.",
                detail=where,
            )
        return TransientError(
            f"{label} closed the connection before it answered.",
            detail=where,
        )
    if isinstance(
        error,
        requests.exceptions.InvalidURL
        | requests.exceptions.InvalidSchema
        | requests.exceptions.MissingSchema,
    ):
        return PermanentError(f"{where.partition(' ')[2]} is not a valid web address.")
    return TransientError(
        f"{label} sent an answer that was cut short or could not be read.",
        detail=f"{where}: {type(error).__name__}",
    )


def status_error(
    response: requests.Response, label: str, secrets: Iterable[str] = ()
) -> ConnectorError:
    """The ConnectorError for an HTTP error ``response`` (status >= 400).

    401 and 403: AuthError; 408, 429, 5xx: TransientError (``retry_after``
    from Retry-After); other 4xx: PermanentError. The message quotes the
    system's own error text, the detail holds more of it; both are scrubbed
    of ``secrets``.
    """
    status = response.status_code
    excerpt, text = error_text(response)
    excerpt, text = scrub(excerpt, secrets), scrub(text, secrets)
    where = scrub(f"{response.request.method} {redact_url(response.url)}", secrets)
    detail = f"HTTP {status} {response.reason or ''} from {where}".replace("  ", " ")
    detail += f": {text}" if text else ""
    said = f": {_sentence(excerpt)}" if excerpt else "."
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    wait = (
        f" It asked to wait {retry_after:g} seconds." if retry_after is not None else ""
    )
    if status == 401:
        return AuthError(
            f"{label} refused the credentials (HTTP 401): check the user name, "
            "password, token or key of the connection.",
            detail=detail,
            status=status,
        )
    if status == 403:
        return AuthError(
            f"{label} denied access (HTTP 403): the account of the connection "
            "lacks the permission for this request.",
            detail=detail,
            status=status,
        )
    if status == 429:
        message = f"{label} received too many requests (HTTP 429).{wait}"
    elif status == 503:
        message = f"{label} is temporarily unavailable (HTTP 503).{wait}"
    elif status == 408:
        message = f"{label} gave up waiting for the request (HTTP 408)."
    elif status >= 500:
        message = f"{label} failed with an internal error (HTTP {status}){said}"
    else:
        reason = f" {response.reason}" if response.reason else ""
        return PermanentError(
            f"{label} refused the request (HTTP {status}{reason}){said}",
            detail=detail,
            status=status,
        )
    return TransientError(
        message, detail=detail, status=status, retry_after=retry_after
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, round((when - (now or datetime.now(UTC))).total_seconds(), 3))


def error_text(response: requests.Response) -> tuple[str, str]:
    """A short excerpt of the system's own error text, and a longer one.

    From a JSON body the first of ``message``, ``error_description``,
    ``detail``, ``title``, ``error`` (nested ``error.message`` too); else
    the text with HTML tags stripped.
    """
    raw = _head_of_body(response)
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    try:
        body = jsonlib.loads(text)
    except ValueError:
        body = None
    plain = " ".join(re.sub(r"<[^>]*>", " ", text).split())
    excerpt = _message_in(body) if body is not None else plain
    return _shorten(excerpt or "", 200), _shorten(plain, 2000)


def _message_in(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list) and body:
        return _message_in(body[0])
    if isinstance(body, dict):
        for key in ("message", "error_description", "detail", "title", "msg", "error"):
            found = _message_in(body.get(key))
            if found:
                return found
    return ""


def _head_of_body(response: requests.Response) -> bytes:
    if response.raw is None or getattr(response, "_content_consumed", False):
        return (response.content or b"")[:_ERROR_BODY_LIMIT]
    try:
        return next(response.iter_content(_ERROR_BODY_LIMIT), b"")
    except requests.RequestException:
        return b""


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and the urllib3 reasons wrapped inside."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__]
        pending += [a for a in current.args if isinstance(a, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)


def _connect_reason(causes: list[BaseException]) -> str:
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
    for cause in causes:
        if isinstance(cause, NameResolutionError | socket.gaierror):
            return "the host name could not be found"
        if isinstance(cause, ConnectionResetError):
            return "the connection was reset"
        if isinstance(cause, OSError) and cause.errno in (101, 113):
            return "the network or host is unreachable"
    return ""
