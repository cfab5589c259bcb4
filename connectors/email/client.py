"""One SMTP conversation, with every failure turned into a ConnectorError.

``smtplib`` is used directly rather than through Django's SMTP backend: each
step (connect, secure, sign in, send) fails in its own way and deserves its
own message, and the backend drops the addresses a server refused when it
accepted some others.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Literal

from django.core.mail.utils import DNS_NAME

from connectors.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    TransientError,
)

logger = logging.getLogger(__name__)

Step = Literal["connect", "secure", "sign in", "send"]


class SmtpSession:
    """Connect, secure, sign in, send, quit; use it as a context manager.

    ``deadline`` (a ``time.monotonic()`` value) bounds the whole conversation,
    on top of ``timeout`` for each answer of the server.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: Literal["starttls", "ssl", "none"],
        username: str = "",
        password: str = "",
        timeout: float,
        deadline: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.timeout = timeout
        self.deadline = deadline
        self._smtp: smtplib.SMTP | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> SmtpSession:
        try:
            self.open()
        except BaseException:
            self.close(polite=False)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(polite=error is None)

    def open(self) -> None:
        """Connect, say EHLO, secure the connection as configured, sign in."""
        context = ssl.create_default_context()
        with self._step("connect"):
            local_hostname = str(DNS_NAME)  # cached: getfqdn() can be slow
            if self.security == "ssl":
                self._smtp = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=local_hostname,
                    timeout=self._remaining(),
                    context=context,
                )
            else:
                self._smtp = smtplib.SMTP(
                    self.host,
                    self.port,
                    local_hostname=local_hostname,
                    timeout=self._remaining(),
                )
            self._arm().ehlo_or_helo_if_needed()
        if self.security == "starttls":
            with self._step("secure"):
                self._arm().starttls(context=context)
                self._arm().ehlo()
        if self.username:
            with self._step("sign in"):
                self._arm().login(self.username, self._password)

    def send(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
        """Hand one message over; any refused recipient is an error."""
        with self._step("send"):
            refused = self._arm().sendmail(sender, list(recipients), data)
        if refused:
            # The others have the message: say so, or a retry would send
            # it to them twice.
            names = ", ".join(sorted(refused))
            raise PermanentError(
                f"The mail server refused {names}; the message went to the "
                f"{len(recipients) - len(refused)} other recipient(s). Check "
                "the refused address(es).",
                detail=_describe_refusals(refused),
            )

    def close(self, *, polite: bool = True) -> None:
        """Say QUIT (``polite``) and close the socket.

        After a failure the connection may be half-way through a TLS
        handshake or a reply: QUIT would only wait for another timeout.
        """
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if polite:
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            smtp.close()

    # -- internals --

    def _remaining(self) -> float:
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return min(self.timeout, left)

    def _arm(self) -> smtplib.SMTP:
        """The connection, its socket timeout cut to what the deadline leaves."""
        assert self._smtp is not None
        if self._smtp.sock is not None:
            self._smtp.sock.settimeout(self._remaining())
        return self._smtp

    @contextmanager
    def _step(self, step: Step) -> Iterator[None]:
        try:
            yield
        except ConnectorError:
            raise
        except Exception as error:
            translated = self._translate(error, step)
            translated.message = self._scrub(translated.message)
            translated.args = (translated.message,)
            logger.warning(
                "smtp %s failed at %s: %s (%s)",
                self.address,
                step,
                translated.message,
                translated.detail,
            )
            raise translated from None

    def _translate(self, error: Exception, step: Step) -> ConnectorError:
        where = self.address
        detail = self._scrub(f"{type(error).__name__}: {error}")
        if isinstance(error.__context__, TimeoutError):
            # smtplib reports a reply that timed out as "disconnected".
            error = error.__context__
        match error:
            case ConnectionRefusedError():
                return TransientError(
                    f"could not connect to {where}: connection refused", detail=detail
                )
            case TimeoutError():
                return TransientError(
                    f"The mail server {where} did not answer in time: it may be "
                    "busy or unreachable.",
                    detail=f"no answer at “{step}” (timeout {self.timeout:g} s)",
                )
            case socket.gaierror() if error.errno == socket.EAI_AGAIN:
                return TransientError(
                    f"Could not look up the mail server {self.host} just now.",
                    detail=detail,
                )
            case socket.gaierror():
                return PermanentError(
                    f"There is no mail server called {self.host}: check the host.",
                    detail=detail,
                )
            case ssl.SSLCertVerificationError():
                return PermanentError(
                    f"The certificate of {where} was not accepted "
                    f"({error.verify_message}): the server is not the one "
                    "configured, or its certificate is not trusted here.",
                    detail=detail,
                )
            case ssl.SSLError():
                return PermanentError(
                    f"A secure connection to {where} failed: check the security "
                    "setting (STARTTLS usually on port 587, SSL on 465).",
                    detail=detail,
                )
            case smtplib.SMTPNotSupportedError() if step == "secure":
                return PermanentError(
                    f"{where} does not offer STARTTLS: choose SSL, or “none” only "
                    "for a relay on a trusted network.",
                    detail=detail,
                )
            case smtplib.SMTPNotSupportedError() if step == "sign in":
                return PermanentError(
                    f"{where} does not offer sign-in on this connection: use "
                    "STARTTLS or SSL, or leave the user name empty.",
                    detail=detail,
                )
            case smtplib.SMTPAuthenticationError():
                return AuthError(
                    "The mail server refused the user name or password.",
                    detail=detail,
                    status=error.smtp_code,
                )
            case smtplib.SMTPRecipientsRefused():
                return _recipients_refused(error.recipients, detail)
            case smtplib.SMTPSenderRefused() if not _temporary(error.smtp_code):
                return PermanentError(
                    f"The mail server refused the sender {error.sender}: check "
                    "the connection's from address.",
                    detail=detail,
                    status=error.smtp_code,
                )
            case smtplib.SMTPResponseException() if _temporary(error.smtp_code):
                return TransientError(
                    f"{where} asked to try again later: {_text(error.smtp_error)}",
                    detail=detail,
                    status=error.smtp_code,
                )
            case smtplib.SMTPResponseException() if step == "send":
                return PermanentError(
                    f"{where} refused the message: {_text(error.smtp_error)}",
                    detail=detail,
                    status=error.smtp_code,
                )
            case smtplib.SMTPResponseException():
                return PermanentError(
                    f"{where} refused to go on ({step}): {_text(error.smtp_error)}",
                    detail=detail,
                    status=error.smtp_code,
                )
            case smtplib.SMTPServerDisconnected():
                return TransientError(
                    f"{where} closed the connection unexpectedly.", detail=detail
                )
            case smtplib.SMTPException():
                return PermanentError(
                    f"Sending through {where} failed at “{step}”: {error}",
                    detail=detail,
                )
            case OSError() if step == "connect":
                reason = (error.strerror or str(error)).lower()
                return TransientError(
                    f"could not connect to {where}: {reason}", detail=detail
                )
            case OSError():
                return TransientError(
                    f"The connection to {where} broke at “{step}”.", detail=detail
                )
        return PermanentError(
            f"Sending through {where} failed at “{step}”.", detail=detail
        )

    def _scrub(self, text: str) -> str:
        # Belt and braces: no server should echo the password, but if one
        # does it must not reach the run log.
        if self._password:
            text = text.replace(self._password, "********")
        return text


def _temporary(code: int) -> bool:
    return 400 <= code < 500


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())


def _describe_refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address}: {code} {_text(reply)}"
        for address, (code, reply) in sorted(refused.items())
    )


def _recipients_refused(
    refused: dict[str, tuple[int, bytes]], detail: str
) -> ConnectorError:
    detail = f"{detail}; {_describe_refusals(refused)}"
    if all(_temporary(code) for code, _ in refused.values()):
        # Greylisting and full mailboxes answer 4xx: later may work.
        return TransientError(
            "The mail server cannot take the message for "
            f"{', '.join(sorted(refused))} just now; it will be tried again.",
            detail=detail,
        )
    return PermanentError(
        f"The mail server refused the recipient(s) {', '.join(sorted(refused))}: "
        "check the address(es).",
        detail=detail,
    )
