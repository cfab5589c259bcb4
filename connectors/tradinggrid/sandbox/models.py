"""The Trading Grid emulator's state (demo and tests only).

Companies and their trading partners are fixed demo data in
``connectors.tradinggrid.emulator.state``; what changes lives here, in the
database, so the web and worker processes of the demo see one network.
"""

from __future__ import annotations

from django.db import models


class TgToken(models.Model):
    """A bearer token handed out for a consumer key; refused after ``expires``."""

    value = models.CharField(max_length=128, unique=True)
    company_id = models.CharField(max_length=20)
    expires = models.DateTimeField()

    def __str__(self) -> str:
        return f"token of {self.company_id}"


class TgFault(models.Model):
    """An injected failure: the next ``remaining`` calls answer ``status``
    (429 and 503 with ``Retry-After: seconds``)."""

    status = models.IntegerField()
    remaining = models.IntegerField(default=1)
    seconds = models.FloatField(default=1)
    message = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.status} x{self.remaining}"


class TgTransaction(models.Model):
    """One document that crossed the network, as Lens shows it.

    ::

        Delivered  routed to the receiver's mailbox
        Rejected   malformed: not routed; the sender gets a negative
                   functional acknowledgement

    A sender's control number is unique per standard: a repeat is refused,
    so a retried send cannot deliver twice.
    """

    class Status(models.TextChoices):
        DELIVERED = "Delivered"
        REJECTED = "Rejected"

    transaction_id = models.CharField(max_length=40, unique=True)
    sender_company = models.CharField(max_length=20)
    receiver_company = models.CharField(max_length=20, blank=True)
    sender_address = models.CharField(max_length=60)
    receiver_address = models.CharField(max_length=60)
    sender_name = models.CharField(max_length=100, blank=True)
    receiver_name = models.CharField(max_length=100, blank=True)
    editype = models.CharField(max_length=10)
    doc_type = models.CharField(max_length=10)
    control_number = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    correlation_id = models.CharField(max_length=40, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    content_keys = models.JSONField(default=dict)
    file_name = models.CharField(max_length=200, blank=True)
    payload = models.TextField()
    arrival_time = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sender_address", "editype", "control_number"],
                condition=~models.Q(control_number=""),
                name="tg_unique_control_number_per_sender",
            )
        ]

    def __str__(self) -> str:
        return self.transaction_id


class TgMailboxDocument(models.Model):
    """A document waiting in a company's inbound mailbox.

    ::

        new -> acknowledged   (the receiver processed it)
            -> failed         (the receiver gave up on it)
    """

    class Status(models.TextChoices):
        NEW = "new"
        ACKNOWLEDGED = "acknowledged"
        FAILED = "failed"

    mailbox = models.CharField(max_length=20, db_index=True)
    transaction = models.ForeignKey(TgTransaction, on_delete=models.CASCADE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    reason = models.TextField(blank=True)
    created = models.DateTimeField()
    acknowledged = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.mailbox}/{self.pk}"


class TgThread(models.Model):
    """A collaboration thread between two companies about one case.

    ``open -> closed`` (either side may reopen).
    """

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    company_id = models.CharField(max_length=20)
    partner_company_id = models.CharField(max_length=20)
    subject = models.CharField(max_length=200)
    case_reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN
    )
    created = models.DateTimeField()
    updated = models.DateTimeField()

    def __str__(self) -> str:
        return self.subject


class TgMessage(models.Model):
    """A message on a thread; the partner acknowledges it (``acknowledged``).

    ``client_reference`` makes posting safe to repeat: a second post with
    the same reference on the same thread returns the first message.
    """

    thread = models.ForeignKey(TgThread, on_delete=models.CASCADE)
    author_company_id = models.CharField(max_length=20)
    text = models.TextField()
    requested_doc_type = models.CharField(max_length=10, blank=True)
    attachments = models.JSONField(default=list)
    client_reference = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField()
    acknowledged = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "client_reference"],
                condition=~models.Q(client_reference=""),
                name="tg_unique_message_reference",
            )
        ]

    def __str__(self) -> str:
        return f"message {self.pk} on {self.thread_id}"
