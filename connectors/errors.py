"""What can go wrong when xConnector talks to a system, and whether to retry.

Every connector raises one of these, never a library's own exception: the
flow engine decides on retry from the class alone, and shows ``message`` to
business users as it is. ``message`` MUST be plain words that say what went
wrong and what to do ("Content Server refused the user name or password:
check the connection's credentials."), and MUST NOT contain a secret.
``detail`` holds technical context for the run log (status code, the
system's own error text), also without secrets.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """A failure talking to an outside system."""

    retryable = False

    def __init__(
        self, message: str, *, detail: str = "", status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.status = status

    def __str__(self) -> str:
        return self.message


class TransientError(ConnectorError):
    """Worth retrying: a timeout, a refused connection, 5xx, 429, 503.

    ``retry_after`` is the wait in seconds the system asked for (from a
    ``Retry-After`` header), or None to use the engine's own backoff.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        detail: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, detail=detail, status=status)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Retrying the same request cannot help: a person has to act."""


class AuthError(PermanentError):
    """The system rejected the credentials (401/403, an expired token that
    cannot be refreshed). Marks the connection failing."""


class BlockedAddressError(PermanentError):
    """The target address is private, loopback or link-local and its host is
    not on the allowlist (``XCONNECTOR_HTTP_ALLOWED_HOSTS``)."""


class PartnerError(PermanentError):
    """A trading partner, or the network on its behalf, refused what was
    sent: an unknown partner address, an interchange rejected as malformed,
    a negative acknowledgement. Someone has to take it up with the partner;
    the flow engine opens a "partner exception" task. ``partner`` names the
    partner (its address or id) where known."""

    def __init__(
        self,
        message: str,
        *,
        partner: str = "",
        detail: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, detail=detail, status=status)
        self.partner = partner
