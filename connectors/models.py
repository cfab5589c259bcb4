"""Connections (a connector configured for one system) and inbound deliveries."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.db import models

from connectors import crypto
from connectors.base import Config, Connector


class ConnectionStatus(models.TextChoices):
    UNTESTED = "untested", "Not tested yet"
    HEALTHY = "healthy", "Working"
    FAILING = "failing", "Failing"


class Connection(models.Model):
    """Credentials and settings for one system, e.g. "Content Server (prod)".

    Non-secret settings live in ``settings`` (JSON); secrets are encrypted
    together in ``secrets_encrypted`` (MultiFernet, see ``connectors.crypto``)
    and never leave the server in clear text. ``secrets_set_at`` remembers
    when each secret was last entered, which is all the UI shows of it.

    Status::

        untested --check ok--> healthy --check fails / auth error--> failing
            \\--check fails--> failing --check ok--> healthy
        any --settings or secrets change--> untested
    """

    connector_key = models.CharField(max_length=40)
    name = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=500, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True, editable=False)
    secrets_set_at = models.JSONField(default=dict, blank=True, editable=False)
    status = models.CharField(
        max_length=20,
        choices=ConnectionStatus.choices,
        default=ConnectionStatus.UNTESTED,
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="At most this many calls a minute from all flows together; "
        "empty means no limit.",
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_message = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def connector_class(self) -> type[Connector]:
        from connectors.registry import get_connector

        return get_connector(self.connector_key)

    def secrets(self) -> dict[str, str]:
        return crypto.decrypt(self.secrets_encrypted)

    def config(self) -> Config:
        """The validated settings with the secrets, for the connector only."""
        return self.connector_class.Config.from_parts(self.settings, self.secrets())

    def connector(self) -> Connector:
        return self.connector_class(self.config(), connection_id=self.pk)

    def audit_view(self) -> dict[str, Any]:
        """What the audit trail keeps of this connection: no secret values."""
        return {
            "name": self.name,
            "connector": self.connector_key,
            "description": self.description,
            "settings": self.settings,
            # Only the fact and date of a change reach the diff.
            **{f"secret:{k}": v for k, v in sorted(self.secrets_set_at.items())},
        }


class DeliveryStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class InboundDelivery(models.Model):
    """One webhook delivery received for a connection, kept for the admin.

    Accepted deliveries are unique per (connection, event id): a repeat of
    the same event is counted on the first one (``repeats``) and dropped.
    Rejected deliveries (bad signature, malformed body) keep the reason but
    not the body, which nobody vouched for.
    """

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    repeats = models.PositiveIntegerField(default=0)
    last_repeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "event_id"],
                condition=models.Q(status="accepted"),
                name="delivery_event_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection} {self.event_id or '(rejected)'}"


class OutboxMessage(models.Model):
    """An e-mail that the email connector delivered to the local outbox.

    The embedded demo has no mail server: an email connection in "outbox"
    mode keeps each message here (and as an .eml file) so people can see
    what would have been sent. Real deliveries go out over SMTP.
    """

    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    message_id = models.CharField(max_length=300, blank=True)
    from_address = models.CharField(max_length=300)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)  # not in the .eml's headers
    subject = models.CharField(max_length=500, blank=True)
    body_text = models.TextField(blank=True)
    # [{"name", "media_type", "size", "sha256"}]; the bytes are in the .eml
    attachments = models.JSONField(default=list, blank=True)
    eml_path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A retried send (same idempotency key, same Message-ID) is kept once.
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~models.Q(message_id=""),
                name="outbox_message_id_once",
            )
        ]

    def __str__(self) -> str:
        return self.subject or "(no subject)"
