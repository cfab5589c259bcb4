"""The e-mail connector against a real SMTP server (aiosmtpd) and the outbox."""

from __future__ import annotations

import email
import hashlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from connectors.base import ActionContext, Document, describe_errors
from connectors.email.connector import EmailConnector
from connectors.email.message import message_id_for
from connectors.email.schemas import EmailConfig
from connectors.errors import AuthError, PermanentError, TransientError
from connectors.models import Connection, OutboxMessage

USER = "bob"
PASSWORD = "s3cret-Pa55word"
WRONG_PASSWORD = "wrong-Pa55word-xyz"
SENDER = "Invoices <invoices@example.com>"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
CSV = b"number;amount\n2024-001;100.00\n2024-002;250.50\n"


# --- a real SMTP server -------------------------------------------------------


@dataclass
class Inbox:
    """aiosmtpd handler: keeps what arrives, refuses @nowhere.example."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.endswith("@nowhere.example"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def only_message(self) -> EmailMessage:
        assert len(self.envelopes) == 1
        content = self.envelopes[0].content
        assert isinstance(content, bytes)
        return email.message_from_bytes(content, policy=default_policy)


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(**kwargs: Any) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticate,
        auth_require_tls=False,
        **kwargs,
    )
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    controller, inbox = start_server()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[int]:
    """A server offering STARTTLS with a self-signed (untrusted) certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    controller, _ = start_server(tls_context=context)
    yield controller.port
    controller.stop()


# --- helpers ----------------------------------------------------------------


def smtp_connector(port: int, **overrides: Any) -> EmailConnector:
    settings = {
        "mode": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "username": USER,
        "password": PASSWORD,
        "from_address": SENDER,
        "timeout_seconds": 5,
        **overrides,
    }
    return EmailConnector(EmailConfig.model_validate(settings))


def documents() -> list[Document]:
    """Two documents; the PDF arrives as a stream of several chunks."""
    chunks = [PDF[:1000], PDF[1000:5000], PDF[5000:]]
    return [
        Document("invoice 2024-001.pdf", chunks, media_type="application/pdf"),
        Document.from_bytes("lines.csv", CSV, media_type="text/csv"),
    ]


def expected_attachments() -> list[dict[str, Any]]:
    return [
        {
            "name": "invoice 2024-001.pdf",
            "media_type": "application/pdf",
            "size": len(PDF),
            "sha256": hashlib.sha256(PDF).hexdigest(),
        },
        {
            "name": "lines.csv",
            "media_type": "text/csv",
            "size": len(CSV),
            "sha256": hashlib.sha256(CSV).hexdigest(),
        },
    ]


def attachments_of(message: EmailMessage) -> list[tuple[str | None, str, bytes]]:
    return [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    ]


SEND = {
    "to": ["Ada Lovelace <ada@example.com>", "grace@example.com"],
    "cc": ["controller@example.com"],
    "bcc": ["archive@example.com"],
    "reply_to": ["ap@example.com"],
    "subject": "Invoice 2024-001\n(March)",
    "body_text": "Please find the invoice attached.",
    "body_html": "<p>Please find the invoice attached.</p>",
}


# --- sending over SMTP --------------------------------------------------------


def test_send_delivers_both_attachments_with_their_bytes(smtp_server):
    port, inbox = smtp_server
    connector = smtp_connector(port)
    context = ActionContext(idempotency_key="run-7:step-2", documents=documents())

    output, produced = connector.run_action("send", SEND, context)

    assert output == {
        "message_id": "<run-7=3Astep-2@xconnector>",
        "recipients": 4,
        "attachments": expected_attachments(),
    }
    assert produced == []
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "invoices@example.com"
    assert envelope.rcpt_tos == [
        "ada@example.com",
        "grace@example.com",
        "controller@example.com",
        "archive@example.com",
    ]
    message = inbox.only_message()
    assert message["Subject"] == "Invoice 2024-001 (March)"
    assert message["From"] == "Invoices <invoices@example.com>"
    assert message["To"] == "Ada Lovelace <ada@example.com>, grace@example.com"
    assert message["Cc"] == "controller@example.com"
    assert message["Bcc"] is None
    assert message["Reply-To"] == "ap@example.com"
    assert message["Message-ID"] == "<run-7=3Astep-2@xconnector>"
    assert message.get_body(("plain",)).get_content() == (
        "Please find the invoice attached."
    )
    assert message.get_body(("html",)).get_content() == (
        "<p>Please find the invoice attached.</p>"
    )
    assert attachments_of(message) == [
        ("invoice 2024-001.pdf", "application/pdf", PDF),
        ("lines.csv", "text/csv", CSV),
    ]


def test_send_without_documents_when_told_not_to_attach(smtp_server):
    port, inbox = smtp_server
    connector = smtp_connector(port, username="", password=None)
    params = {**SEND, "attach_documents": False}

    output, _ = connector.run_action(
        "send", params, ActionContext(documents=documents())
    )

    assert output["attachments"] == []
    assert output["message_id"].endswith("@xconnector>")
    assert attachments_of(inbox.only_message()) == []


def test_check_signs_in(smtp_server):
    port, _ = smtp_server

    result = smtp_connector(port).check()

    assert result.message == f"Signed in to 127.0.0.1:{port} as bob"


def test_check_without_user_name_only_reaches_the_server(smtp_server):
    port, _ = smtp_server

    result = smtp_connector(port, username="", password=None).check()

    assert result.message == f"Reached 127.0.0.1:{port}"


def test_wrong_password_is_an_auth_error_that_never_shows_it(smtp_server, caplog):
    caplog.set_level(logging.DEBUG, logger="connectors")
    port, inbox = smtp_server
    connector = smtp_connector(port, password=WRONG_PASSWORD)

    with pytest.raises(AuthError) as check_error:
        connector.check()
    with pytest.raises(AuthError) as send_error:
        connector.run_action("send", SEND, ActionContext(documents=documents()))

    for error in (check_error.value, send_error.value):
        assert str(error) == "The mail server refused the user name or password."
        assert error.status == 535
        assert WRONG_PASSWORD not in error.detail
    assert inbox.envelopes == []
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("connectors")]
    assert ours[0] == (
        f"smtp 127.0.0.1:{port} failed at sign in: The mail server refused the "
        "user name or password. (SMTPAuthenticationError: (535, b'5.7.8 "
        "Authentication credentials invalid'))"
    )
    assert WRONG_PASSWORD not in caplog.text


def test_refused_connection_is_transient():
    port = free_port()  # nothing listens there

    with pytest.raises(TransientError) as error:
        smtp_connector(port).check()

    assert str(error.value) == (
        f"could not connect to 127.0.0.1:{port}: connection refused"
    )


def test_silent_server_times_out_as_transient():
    with socket.socket() as silent:  # accepts connections, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]

        with pytest.raises(TransientError) as error:
            smtp_connector(port, timeout_seconds=1).check()

    assert str(error.value) == (
        f"The mail server 127.0.0.1:{port} did not answer in time: it may be "
        "busy or unreachable."
    )
    assert error.value.detail == "no answer at “connect” (timeout 1 s)"


def test_message_id_keeps_distinct_keys_distinct():
    assert message_id_for("a.b..c/é") == "<a.b.=2Ec=2F=C3=A9@xconnector>"
    assert message_id_for("a=2F") == "<a=3D2F@xconnector>"
    assert message_id_for("x" * 300) == (
        f"<sha256-{hashlib.sha256(b'x' * 300).hexdigest()}@xconnector>"
    )


def test_refused_recipient_is_named(smtp_server):
    port, inbox = smtp_server
    params = {**SEND, "to": ["nobody@nowhere.example"], "cc": [], "bcc": []}

    with pytest.raises(PermanentError) as error:
        smtp_connector(port).run_action("send", params, ActionContext())

    assert str(error.value) == (
        "The mail server refused the recipient(s) nobody@nowhere.example: "
        "check the address(es)."
    )
    assert inbox.envelopes == []


def test_partly_refused_recipients_say_who_got_the_message(smtp_server):
    port, inbox = smtp_server
    params = {**SEND, "to": ["ada@example.com", "nobody@nowhere.example"]}
    params.update(cc=[], bcc=[])

    with pytest.raises(PermanentError) as error:
        smtp_connector(port).run_action("send", params, ActionContext())

    assert str(error.value) == (
        "The mail server refused nobody@nowhere.example; the message went to "
        "the 1 other recipient(s). Check the refused address(es)."
    )
    assert inbox.envelopes[0].rcpt_tos == ["ada@example.com"]


def test_starttls_on_a_server_without_it_is_permanent(smtp_server):
    port, _ = smtp_server

    with pytest.raises(PermanentError) as error:
        smtp_connector(port, security="starttls").check()

    assert str(error.value) == (
        f"127.0.0.1:{port} does not offer STARTTLS: choose SSL, or “none” only "
        "for a relay on a trusted network."
    )


def test_untrusted_certificate_is_permanent(tls_server):
    with pytest.raises(PermanentError) as error:
        smtp_connector(tls_server, security="starttls").check()

    assert str(error.value) == (
        f"The certificate of 127.0.0.1:{tls_server} was not accepted "
        "(self-signed certificate): the server is not the one configured, or "
        "its certificate is not trusted here."
    )


def test_attachments_over_the_size_limit_are_refused_before_sending(
    smtp_server, settings
):
    settings.XCONNECTOR_EMAIL_MAX_BYTES = len(PDF) + 10
    port, inbox = smtp_server

    with pytest.raises(PermanentError) as error:
        smtp_connector(port).run_action(
            "send", SEND, ActionContext(documents=documents())
        )

    assert str(error.value) == (
        f"The attachments are larger than the {len(PDF) + 10:,} bytes allowed "
        "for one message: send fewer or smaller documents."
    )
    assert inbox.envelopes == []


# --- validation -------------------------------------------------------------


def test_no_recipient_is_refused_naming_the_field():
    connector = smtp_connector(free_port())

    with pytest.raises(PermanentError) as error:
        connector.run_action("send", {**SEND, "to": []}, ActionContext())

    assert str(error.value) == (
        "The input of “Send an e-mail” is not valid: to: List should have at "
        "least 1 item after validation, not 0."
    )


def test_invalid_address_is_refused_naming_the_field():
    connector = smtp_connector(free_port())
    params = {**SEND, "cc": ["controller@example.com", "not-an-address"]}

    with pytest.raises(PermanentError) as error:
        connector.run_action("send", params, ActionContext())

    assert str(error.value) == (
        "The input of “Send an e-mail” is not valid: cc.1: “not-an-address” is "
        "not a valid e-mail address."
    )


def test_smtp_mode_needs_a_host():
    with pytest.raises(ValidationError) as error:
        EmailConfig.model_validate({"mode": "smtp", "from_address": SENDER})

    assert describe_errors(error.value) == (
        "host: enter the mail server to send over SMTP."
    )


def test_the_password_is_a_secret_field():
    assert EmailConfig.secret_fields() == ("password",)


# --- the outbox -----------------------------------------------------------------


@pytest.fixture
def outbox_connector(db, settings, tmp_path) -> EmailConnector:
    settings.VAR_DIR = tmp_path
    connection = Connection.objects.create(
        connector_key="email",
        name="Demo outbox",
        settings={"mode": "outbox", "from_address": SENDER},
    )
    return connection.connector_class(
        EmailConfig(mode="outbox", from_address=SENDER), connection_id=connection.pk
    )


def test_outbox_keeps_a_row_and_an_eml_with_the_attachments(outbox_connector, tmp_path):
    context = ActionContext(idempotency_key="run-9:step-1", documents=documents())

    output, _ = outbox_connector.run_action("send", SEND, context)

    row = OutboxMessage.objects.get()
    assert output == {
        "message_id": "<run-9=3Astep-1@xconnector>",
        "recipients": 4,
        "attachments": expected_attachments(),
    }
    assert row.connection_id == outbox_connector.connection_id
    assert row.message_id == "<run-9=3Astep-1@xconnector>"
    assert row.from_address == SENDER
    assert row.to == ["Ada Lovelace <ada@example.com>", "grace@example.com"]
    assert row.cc == ["controller@example.com"]
    assert row.subject == "Invoice 2024-001 (March)"
    assert row.body_text == "Please find the invoice attached."
    assert row.attachments == expected_attachments()
    month = row.created_at.strftime("%Y-%m")
    assert row.eml_path.startswith(f"outbox/{month}/")
    assert row.eml_path.endswith(".eml")
    eml = email.message_from_bytes(
        (tmp_path / row.eml_path).read_bytes(), policy=default_policy
    )
    assert eml["Message-ID"] == "<run-9=3Astep-1@xconnector>"
    assert eml["Subject"] == "Invoice 2024-001 (March)"
    assert attachments_of(eml) == [
        ("invoice 2024-001.pdf", "application/pdf", PDF),
        ("lines.csv", "text/csv", CSV),
    ]


def test_outbox_send_repeated_with_the_same_key_adds_nothing(
    outbox_connector, tmp_path
):
    first, _ = outbox_connector.run_action(
        "send",
        SEND,
        ActionContext(idempotency_key="run-9:step-1", documents=documents()),
    )

    again, _ = outbox_connector.run_action(
        "send",
        SEND,
        ActionContext(idempotency_key="run-9:step-1", documents=documents()),
    )

    assert again == first
    assert OutboxMessage.objects.count() == 1
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 1


def test_outbox_sends_without_a_key_are_all_kept(outbox_connector):
    for _ in range(2):
        outbox_connector.run_action("send", SEND, ActionContext())

    assert OutboxMessage.objects.count() == 2


def test_outbox_check_says_nothing_leaves(outbox_connector):
    result = outbox_connector.check()

    assert result.message == (
        "Messages go to the local outbox; nothing leaves this server."
    )
