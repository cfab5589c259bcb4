"""The e-mail connector: send a message with the run's documents attached."""

from __future__ import annotations

import logging
import time
from typing import cast

from django.conf import settings

from connectors.base import (
    CHECK_TIMEOUT,
    ActionContext,
    CheckResult,
    Connector,
    action,
)
from connectors.email.client import SmtpSession
from connectors.email.message import (
    as_bytes,
    build_message,
    message_id_for,
    read_attachments,
    unique_recipients,
)
from connectors.email.schemas import (
    AttachmentInfo,
    EmailConfig,
    SendInput,
    SendOutput,
    envelope_address,
)

logger = logging.getLogger(__name__)

OUTBOX_CHECK_MESSAGE = "Messages go to the local outbox; nothing leaves this server."


class EmailConnector(Connector):
    """E-mail through an SMTP server, or into the local outbox (``mode``)."""

    key = "email"
    label = "E-mail (SMTP)"
    category = "generic"
    icon = "mail"
    description = (
        "Sends e-mails, with the documents of a run attached, through your mail server."
    )
    Config = EmailConfig

    @property
    def email_config(self) -> EmailConfig:
        return cast(EmailConfig, self.config)

    def check(self) -> CheckResult:
        """Sign in to the mail server (or just reach it); send nothing."""
        config = self.email_config
        if config.mode == "outbox":
            from connectors.email import outbox

            outbox.ensure_writable()
            return CheckResult(OUTBOX_CHECK_MESSAGE)
        with self._session(deadline=time.monotonic() + CHECK_TIMEOUT):
            pass
        where = f"{config.host}:{config.port}"
        if config.username:
            return CheckResult(f"Signed in to {where} as {config.username}")
        return CheckResult(f"Reached {where}")

    @action(
        "send",
        "Send an e-mail",
        description=(
            "Sends one e-mail with the run's documents attached. Its Message-ID "
            "comes from the run step, so a message sent again after a failure "
            "carries the same Message-ID and mail programs can recognise it."
        ),
        input=SendInput,
        output=SendOutput,
    )
    def send(self, data: SendInput, context: ActionContext) -> SendOutput:
        config = self.email_config
        message_id = message_id_for(context.idempotency_key)
        recipients = unique_recipients(data)
        if config.mode == "outbox" and context.idempotency_key:
            from connectors.email import outbox

            if existing := outbox.find(message_id):
                logger.info("e-mail %s is already in the outbox", message_id)
                return SendOutput(
                    message_id=message_id,
                    recipients=len(recipients),
                    attachments=[
                        AttachmentInfo.model_validate(a) for a in existing.attachments
                    ],
                )

        documents = context.documents if data.attach_documents else []
        parts = read_attachments(documents, settings.XCONNECTOR_EMAIL_MAX_BYTES)
        message = build_message(
            data,
            from_address=config.from_address,
            message_id=message_id,
            attachments=[part for part, _ in parts],
        )
        eml = as_bytes(message)
        attachments = [info for _, info in parts]

        if config.mode == "outbox":
            from connectors.email import outbox

            row = outbox.deliver(
                connection_id=self.connection_id,
                message_id=message_id,
                from_address=config.from_address,
                data=data,
                attachments=attachments,
                eml=eml,
            )
            logger.info("e-mail %s written to the outbox (%s)", message_id, row.pk)
        else:
            with self._session() as session:
                session.send(envelope_address(config.from_address), recipients, eml)
            logger.info(
                "e-mail %s sent to %d recipient(s) through %s:%s",
                message_id,
                len(recipients),
                config.host,
                config.port,
            )
        return SendOutput(
            message_id=message_id, recipients=len(recipients), attachments=attachments
        )

    def _session(self, *, deadline: float | None = None) -> SmtpSession:
        config = self.email_config
        password = config.password.get_secret_value() if config.password else ""
        return SmtpSession(
            host=config.host,
            port=config.port,
            security=config.security,
            username=config.username,
            password=password,
            timeout=config.timeout_seconds,
            deadline=deadline,
        )
