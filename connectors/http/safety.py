"""What keeps outbound HTTP safe: the address guard and the secret redaction.

The guard has two halves. Here: which URLs are acceptable at all (http or
https with a host) and which hosts are on the allowlist. At connect time:
requests-hardened's IP filter, which refuses private, loopback, link-local,
reserved and multicast addresses *after* DNS resolution, so a name that
resolves differently the second time (DNS rebinding) is still caught. The
client (``connectors.http.client``) puts the two together.

Redaction keeps secrets out of log lines and error messages: the values of
credential headers and query parameters, the user info of URLs, and any
secret value the caller names (``scrub``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

from django.conf import settings

from connectors.errors import PermanentError

REDACTED = "***"

# Query parameters whose value is a credential (compared in lower case).
SECRET_PARAMS = frozenset(
    {
        "token",
        "key",
        "api_key",
        "apikey",
        "api-key",
        "access_token",
        "refresh_token",
        "id_token",
        "signature",
        "sig",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "code",
        "ticket",
    }
)
_SECRET_PARAM_SUFFIXES = ("token", "secret", "password", "signature", "apikey")
_SECRET_HEADER = re.compile(
    r"auth|cookie|token|secret|passw|api-?key|apikey|-key$|signature|session|ticket",
    re.IGNORECASE,
)


# --- Redaction ------------------------------------------------------------------------


def is_secret_param(name: str) -> bool:
    """Whether a query parameter of this name carries a credential."""
    lowered = name.lower()
    return lowered in SECRET_PARAMS or lowered.endswith(_SECRET_PARAM_SUFFIXES)


def is_secret_header(name: str) -> bool:
    """Whether a header of this name carries a credential (Authorization,
    Cookie, X-API-Key, OTCSTicket, ...)."""
    return bool(_SECRET_HEADER.search(name))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with the values of credential headers replaced."""
    return {
        name: REDACTED if is_secret_header(name) else value
        for name, value in headers.items()
    }


def redact_url(url: str) -> str:
    """``url`` without its user info and the values of secret query parameters.

    ``https://ada:pw@api.example.com/x?token=abc&page=2`` becomes
    ``https://***@api.example.com/x?token=***&page=2``.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an address that cannot be read)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&"))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _redact_pair(pair: str) -> str:
    name, sep, _ = pair.partition("=")
    if sep and is_secret_param(unquote_plus(name)):
        return f"{name}={REDACTED}"
    return pair


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (plain or URL-encoded)
    replaced. Secrets shorter than three characters are left alone: replacing
    them would mangle the text more than it protects."""
    variants = set()
    for secret in secrets:
        if secret and len(secret) >= 3:
            variants.update({secret, quote(secret, safe=""), quote_plus(secret)})
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, REDACTED)
    return text


def secrets_of_request(
    headers: Mapping[str, str], url: str, extra: Iterable[str] = ()
) -> set[str]:
    """The secret values a request carries, to scrub from what is shown.

    Credential header values (and, for ``Basic``, the decoded password),
    secret query parameter values, the URL's password, plus ``extra``.
    """
    found = {value for value in extra if value}
    for name, value in headers.items():
        if not is_secret_header(name) or not value:
            continue
        found.add(value)
        scheme, _, credential = value.partition(" ")
        if credential:
            found.add(credential)
        if scheme.lower() == "basic" and credential:
            try:
                decoded = base64.b64decode(credential, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
            found.add(decoded.partition(":")[2])
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    if parts.password:
        found.add(unquote_plus(parts.password))
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if value and is_secret_param(unquote_plus(name)):
            found.update({value, unquote_plus(value)})
    return {value for value in found if value}


# --- Targets and the allowlist --------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a request goes: scheme, host (lower case, no brackets) and port."""

    scheme: str
    host: str
    port: int

    @property
    def host_port(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_target(url: str) -> Target:
    """The target of ``url``, or PermanentError when it is not a web address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentError(
            f"“{redact_url(url)}” is not a valid web address: it must start with "
            "http:// or https:// followed by a host name.",
        )
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname.lower(), port or default)


def web_address(value: str) -> str:
    """A pydantic validator: ``value`` if it is a web address, else the
    reason as a ValueError (shown beside the field)."""
    try:
        parse_target(value)
    except PermanentError as error:
        raise ValueError(error.message) from None
    return value


def is_allowlisted(target: Target) -> bool:
    """Whether the host, or host:port, is in XCONNECTOR_HTTP_ALLOWED_HOSTS."""
    names = {target.host, target.host_port}
    if ":" in target.host:
        names.add(f"[{target.host}]")
    return any(
        entry.strip().lower() in names
        for entry in settings.XCONNECTOR_HTTP_ALLOWED_HOSTS
    )


def address_kind(address: str) -> str:
    """Why an address is not public, in one word or two."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return "not public"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    )
    return next((kind for kind, hit in checks if hit), "not public")


def blocked_message(address: str, host: str) -> str:
    """The message of BlockedAddressError for ``host`` resolved to ``address``."""
    address = address.strip("[]")
    subject = (
        f"The address {address}"
        if address == host
        else f"The address {address} of host {host}"
    )
    return (
        f"{subject} is {address_kind(address)}: xConnector only calls it when the "
        "host is on the allowlist (XCONNECTOR_HTTP_ALLOWED_HOSTS)."
    )


# The secrets of the request being sent in this thread, for RedactingFilter.
sending_secrets: ContextVar[frozenset[str]] = ContextVar(
    "sending_secrets", default=frozenset()
)


class RedactingFilter(logging.Filter):
    """Redacts URLs in the records of a library's logger.

    urllib3 logs each request's path and query at DEBUG; a query may carry
    an API key. Installed on ``urllib3.connectionpool`` by the client.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            secrets = sending_secrets.get()
            record.args = tuple(
                scrub(redact_url(arg) if "?" in arg else arg, secrets)
                if isinstance(arg, str)
                else arg
                for arg in record.args
            )
        return True


def install_log_redaction(logger_name: str = "urllib3.connectionpool") -> None:
    """Add a RedactingFilter to ``logger_name`` once."""
    library_logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactingFilter) for f in library_logger.filters):
        library_logger.addFilter(RedactingFilter())
