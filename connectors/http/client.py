"""The one outbound HTTP client of xConnector.

Every connector talks HTTP through ``HttpClient`` and gets, without asking:

- connect and read timeouts from the settings, overridable per client and
  per request;
- the SSRF guard: only http and https; a host that resolves to a private,
  loopback, link-local, unspecified, multicast or reserved address is
  refused unless it is on ``XCONNECTOR_HTTP_ALLOWED_HOSTS``. The address is
  checked when the connection is made (requests-hardened's IP filter), so
  DNS rebinding is covered;
- redirects followed by hand (at most five), each hop guarded again, with
  credentials dropped when the host changes;
- failures raised as ``connectors.errors`` exceptions whose messages a
  business user can act on: TransientError for timeouts, connections that
  fail, 408, 429 and 5xx (with ``retry_after`` from Retry-After), AuthError
  for 401 and 403, PermanentError for the other 4xx and invalid addresses;
- one INFO line per request on the ``connectors.http`` logger (method,
  redacted URL, status, milliseconds). Secrets reach neither the logs nor
  the error messages.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Container, Iterable, Iterator, Mapping
from email.message import Message
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
from django.conf import settings
from requests.hooks import default_hooks
from requests_hardened import Config as HardenedConfig
from requests_hardened import Manager
from requests_hardened.ip_filter import InvalidIPAddress

from connectors.base import Document
from connectors.errors import BlockedAddressError, ConnectorError, PermanentError
from connectors.http.failures import status_error, transport_error
from connectors.http.safety import (
    Target,
    blocked_message,
    install_log_redaction,
    is_allowlisted,
    is_secret_header,
    parse_target,
    redact_url,
    scrub,
    secrets_of_request,
    sending_secrets,
)

logger = logging.getLogger("connectors.http")
install_log_redaction()

Timeout = float | tuple[float | None, float | None]
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "xConnector"
_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class HttpClient:
    """HTTP calls to one system, guarded, timed, logged without secrets.

    ``base_url`` is joined with relative paths (``"orders/7"`` and
    ``"/orders/7"`` both go below it); absolute URLs are used as they are.
    ``auth`` is any ``requests`` auth (see ``connectors.auth``).
    ``timeout`` is seconds for both phases or ``(connect, read)``; a None
    takes the setting. ``system_label`` names the system in messages
    ("Content Server did not answer within 60 seconds").
    """

    max_redirects = MAX_REDIRECTS

    def __init__(
        self,
        base_url: str = "",
        *,
        auth: requests.auth.AuthBase | None = None,
        timeout: Timeout | None = None,
        headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        system_label: str = "",
    ) -> None:
        self.base_url = base_url.strip()
        target = parse_target(self.base_url) if self.base_url else None
        self.auth = auth
        self.headers = dict(headers or {})
        self.verify = verify
        self.timeout = resolve_timeout(timeout)
        self.system_label = system_label or (target.host if target else "The system")
        self._sessions: dict[bool, requests.Session] = {}
        self._lock = threading.Lock()

    # -- Public API --

    def url(self, path_or_url: str = "") -> str:
        """The absolute URL of ``path_or_url``."""
        if _ABSOLUTE.match(path_or_url) or not self.base_url:
            return path_or_url
        if not path_or_url:
            return self.base_url
        return self.base_url.rstrip("/") + "/" + path_or_url.lstrip("/")

    def request(
        self,
        method: str,
        path_or_url: str = "",
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: Timeout | None = None,
        allow_status: Container[int] = (),
        raise_errors: bool = True,
        redact: Iterable[str] = (),
    ) -> requests.Response:
        """Send one request (following redirects) and return the response.

        A status of 400 or more raises the matching ``ConnectorError``
        unless it is in ``allow_status`` or ``raise_errors`` is False.
        ``redact`` names further secret values to keep out of logs and
        errors (a client secret in a form body, say). With ``stream=True``
        the caller MUST close the response.
        """
        url = self.url(path_or_url)
        parse_target(url)
        prepared = self._prepare(method, url, params, json, data, files, headers)
        secrets = secrets_of_request(
            prepared.headers, prepared.url, [*redact, *self._auth_secrets()]
        )
        timeouts = resolve_timeout(timeout, self.timeout)
        response = self._follow(prepared, secrets, stream, timeouts)
        status = response.status_code
        if raise_errors and status >= 400 and status not in allow_status:
            secrets |= secrets_of_request(response.request.headers, response.url)
            error = self.status_error(response, secrets)
            response.close()
            raise error
        return response

    def request_json(self, method: str, path_or_url: str = "", **kwargs: Any) -> Any:
        """``request`` and return the JSON body (None when it is empty)."""
        response = self.request(method, path_or_url, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            raise PermanentError(
                f"{self.system_label} answered with something that is not JSON "
                f"({kind}): check the address of the connection.",
                status=response.status_code,
            ) from None

    def stream_download(
        self,
        path_or_url: str,
        *,
        name: str = "",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        chunk_size: int = 1 << 16,
    ) -> Document:
        """A ``Document`` that streams the body of a GET, hashing as it goes.

        The name comes from ``name``, else Content-Disposition, else the
        URL's last segment. A document over ``max_bytes`` (default
        ``XCONNECTOR_MAX_DOCUMENT_BYTES``) raises PermanentError, before any
        byte is read when the server announces its size.
        """
        limit = max_bytes or settings.XCONNECTOR_MAX_DOCUMENT_BYTES
        response = self.request(
            "GET", path_or_url, params=params, headers=headers, stream=True
        )
        name = name or _filename(response)
        declared = _declared_size(response)
        if declared is not None and declared > limit:
            response.close()
            raise PermanentError(
                f"{name} is larger than the {limit:,} bytes allowed for one document.",
                detail=f"{self.system_label} announced {declared:,} bytes.",
            )
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        secrets = secrets_of_request(
            response.request.headers, response.url, self._auth_secrets()
        )

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.iter_content(chunk_size)
            except requests.RequestException as error:
                target = parse_target(response.url)
                raise self._transport_error(
                    error, response.request, target, self.timeout, secrets
                ) from None
            finally:
                response.close()

        return Document(
            name,
            chunks(),
            media_type=media_type or "application/octet-stream",
            size=declared,
            source_ref=scrub(redact_url(response.url), secrets),
            max_bytes=limit,
        )

    def close(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- Sending --

    def _prepare(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        files: Any,
        headers: Mapping[str, str] | None,
    ) -> requests.PreparedRequest:
        merged = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json, */*;q=0.8",
            "Accept-Encoding": "gzip, deflate",
            **self.headers,
            **(headers or {}),
        }
        request = requests.Request(
            method.upper(),
            url,
            params=dict(params or {}),
            json=json,
            data=data,
            files=files,
            headers=merged,
            auth=self.auth,
        )
        try:
            return request.prepare()
        except requests.exceptions.InvalidHeader:
            raise PermanentError(
                "A header of the request is not valid: header names and values "
                "cannot contain line breaks or start with a space."
            ) from None
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ):
            raise PermanentError(
                f"“{redact_url(url)}” is not a valid web address: it must start "
                "with http:// or https:// followed by a host name."
            ) from None

    def _follow(
        self,
        prepared: requests.PreparedRequest,
        secrets: set[str],
        stream: bool,
        timeout: tuple[float, float],
    ) -> requests.Response:
        history: list[requests.Response] = []
        for _ in range(self.max_redirects + 1):
            target = parse_target(str(prepared.url))
            response = self._send(prepared, target, secrets, stream, timeout)
            if (
                response.status_code not in REDIRECT_STATUSES
                or "location" not in response.headers
            ):
                response.history = [*history, *response.history]
                return response
            history.append(response)
            response.close()
            prepared = self._redirected(prepared, response, target)
        raise PermanentError(
            f"{self.system_label} redirected the request more than "
            f"{self.max_redirects} times: check the address of the connection.",
            detail=scrub(" -> ".join(redact_url(r.url) for r in history), secrets),
        )

    def _redirected(
        self,
        prepared: requests.PreparedRequest,
        response: requests.Response,
        target: Target,
    ) -> requests.PreparedRequest:
        location = response.headers["location"]
        # http.client decodes headers as latin-1; servers send UTF-8.
        with contextlib.suppress(UnicodeError):
            location = location.encode("latin1").decode("utf8")
        new_url = urljoin(str(prepared.url), location)
        try:
            new_target = parse_target(new_url)
        except PermanentError:
            raise PermanentError(
                f"{self.system_label} redirected the request to "
                f"“{redact_url(new_url)}”: xConnector only follows redirects to "
                "http:// or https:// addresses."
            ) from None
        new = prepared.copy()
        new.prepare_url(new_url, None)
        new.headers.pop("Host", None)  # set by the IP filter for the old host
        status, method = response.status_code, str(prepared.method)
        if (status == 303 and method != "HEAD") or (
            status in (301, 302) and method == "POST"
        ):
            new.method, new.body = "GET", None
            for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
                new.headers.pop(name, None)
        upgrade = (
            new_target.host == target.host
            and (target.scheme, target.port) == ("http", 80)
            and (new_target.scheme, new_target.port) == ("https", 443)
        )
        if new_target != target and not upgrade:
            # Credentials belong to the host they were given for.
            for name in [n for n in new.headers if is_secret_header(n)]:
                del new.headers[name]
            new.hooks = default_hooks()
        return new

    def _send(
        self,
        prepared: requests.PreparedRequest,
        target: Target,
        secrets: set[str],
        stream: bool,
        timeout: tuple[float, float],
    ) -> requests.Response:
        session = self._session(allowlisted=is_allowlisted(target))
        started = time.monotonic()
        outcome = "failed"
        token = sending_secrets.set(frozenset(secrets))
        try:
            response = session.send(
                prepared,
                stream=stream,
                timeout=timeout,
                verify=self.verify,
                allow_redirects=False,
            )
            outcome = str(response.status_code)
            return response
        except InvalidIPAddress as error:
            outcome = "blocked"
            raise BlockedAddressError(
                blocked_message(str(error.args[0]), target.host),
                detail=f"{prepared.method} {target.host_port}",
            ) from None
        except requests.RequestException as error:
            raise self._transport_error(
                error, prepared, target, timeout, secrets
            ) from None
        finally:
            sending_secrets.reset(token)
            logger.info(
                "%s %s -> %s in %d ms",
                prepared.method,
                scrub(redact_url(str(prepared.url)), secrets),
                outcome,
                (time.monotonic() - started) * 1000,
            )

    def _session(self, *, allowlisted: bool) -> requests.Session:
        with self._lock:
            session = self._sessions.get(allowlisted)
            if session is None:
                config = HardenedConfig(
                    ip_filter_enable=not allowlisted,
                    ip_filter_allow_loopback_ips=False,
                    never_redirect=True,
                    default_timeout=self.timeout,
                    user_agent_override=None,
                )
                session = Manager(config).get_session()
                # Proxies and .netrc from the environment could route around
                # the guard or add credentials nobody configured.
                session.trust_env = False
                self._sessions[allowlisted] = session
            return session

    def _auth_secrets(self) -> list[str]:
        secret_values = getattr(self.auth, "secret_values", None)
        return list(secret_values()) if callable(secret_values) else []

    def status_error(
        self, response: requests.Response, secrets: Iterable[str] = ()
    ) -> ConnectorError:
        """The ConnectorError for an HTTP error ``response`` (status >= 400)."""
        return status_error(response, self.system_label, secrets)

    def _transport_error(
        self,
        error: requests.RequestException,
        prepared: requests.PreparedRequest,
        target: Target,
        timeout: tuple[float, float],
        secrets: Iterable[str],
    ) -> ConnectorError:
        where = f"{prepared.method} {redact_url(str(prepared.url))}"
        return transport_error(
            error, scrub(where, secrets), target, timeout, self.system_label
        )


# --- Helpers --------------------------------------------------------------------------


def resolve_timeout(
    timeout: Timeout | None, fallback: tuple[float, float] | None = None
) -> tuple[float, float]:
    """``(connect, read)`` seconds: ``timeout`` where given, else the settings."""
    base = fallback or (
        float(settings.XCONNECTOR_HTTP_CONNECT_TIMEOUT),
        float(settings.XCONNECTOR_HTTP_READ_TIMEOUT),
    )
    if timeout is None:
        return base
    if isinstance(timeout, int | float):
        return float(timeout), float(timeout)
    connect, read = timeout
    return (
        base[0] if connect is None else float(connect),
        base[1] if read is None else float(read),
    )


def attachment_name(response: requests.Response) -> str:
    """The file name of ``Content-Disposition`` (no folders), or ""."""
    disposition = response.headers.get("Content-Disposition", "")
    if not disposition:
        return ""
    message = Message()
    message["Content-Disposition"] = disposition
    name = message.get_filename() or ""
    return re.split(r"[\\/]", name)[-1]


def _filename(response: requests.Response) -> str:
    if name := attachment_name(response):
        return name
    path = unquote(urlsplit(response.url).path)
    return path.rstrip("/").rpartition("/")[2] or "download"


def _declared_size(response: requests.Response) -> int | None:
    if response.headers.get("Content-Encoding", "identity") != "identity":
        return None  # Content-Length counts compressed bytes; we yield decoded ones
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None
