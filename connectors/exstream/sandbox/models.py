"""The Exstream emulator's state (``/sandbox/exstream/``, demo and tests only).

The state lives in the database because the demo runs several processes
(web, worker) that must see the same Exstream. Tokens, communications and
their governed content, batch jobs, stored idempotent answers, registered
delivery callbacks and the queue of injected faults.
"""

from __future__ import annotations

from django.db import models


class ExstreamToken(models.Model):
    """An OTDS bearer token handed out by ``otdsws/oauth2/token``.

    A token works until ``expires_at`` and answers 401 afterwards.
    """

    value = models.CharField(max_length=128, unique=True)
    client_id = models.CharField(max_length=150)
    created = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"token of {self.client_id}"


class ExstreamFault(models.Model):
    """A failure the next ``remaining`` API calls answer with (sandbox only)."""

    status = models.IntegerField()
    remaining = models.IntegerField()
    seconds = models.FloatField(default=1)
    message = models.CharField(max_length=500)

    def __str__(self) -> str:
        return f"{self.status} x{self.remaining}"


class CommunicationState(models.TextChoices):
    """The DAS workflow of a communication.

    ::

        DRAFT --submit--> REVIEW --approve--> APPROVED
          ^                 |  \\--reject--> REJECTED
          |                 v                   |
          +----- edit (content block update) ---+

    Any change of a governed content block moves the communication back
    to DRAFT (or to REVIEW when the change is submitted for review at
    once); only APPROVED communications generate.
    """

    DRAFT = "DRAFT"
    REVIEW = "REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class ExstreamCommunication(models.Model):
    """A communication (DAS resource of type ``exstrapplication``).

    ``content_blocks`` maps a block name to its text with ``{field}``
    placeholders; ``queues`` names its output channels (PDF, PRINT, EMAIL,
    SMS, PORTAL); ``service_name`` is the batch input connector bound to it.
    """

    id = models.UUIDField(primary_key=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = models.CharField(
        max_length=10,
        choices=CommunicationState.choices,
        default=CommunicationState.DRAFT,
    )
    version = models.IntegerField(default=1)
    service_name = models.CharField(max_length=100, unique=True)
    required_fields = models.JSONField(default=list)
    optional_fields = models.JSONField(default=list)
    content_blocks = models.JSONField(default=dict)
    queues = models.JSONField(default=list)
    modified = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class ExstreamJob(models.Model):
    """A batch job. Its status is computed on read from the clock::

        QUEUED (first third of the delay) -> RUNNING -> COMPLETED | FAILED

    The communication's content is copied at submission, so the outputs
    render as they were ordered even if the template changes later.
    """

    job_id = models.CharField(max_length=64, unique=True)
    communication_id = models.UUIDField()
    snapshot = models.JSONField()
    records = models.JSONField()
    errors = models.JSONField(default=list)
    created = models.DateTimeField()
    ready_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.job_id


class ExstreamIdempotentAnswer(models.Model):
    """The answer to a request sent with an ``Idempotency-Key`` header, kept
    so that a repeat gets the same answer (and no second job)."""

    key = models.CharField(max_length=200, unique=True)
    fingerprint = models.CharField(max_length=64)
    status = models.IntegerField()
    content_type = models.CharField(max_length=100)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    created = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class ExstreamCallback(models.Model):
    """A URL delivery events are posted to, signed with ``secret``."""

    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=200)
    created = models.DateTimeField()

    def __str__(self) -> str:
        return self.url


class ExstreamDeliveryEvent(models.Model):
    """A simulated delivery event (delivered, bounced, viewed)."""

    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=20)
    communication_id = models.UUIDField()
    channel = models.CharField(max_length=20)
    recipient = models.CharField(max_length=300)
    job_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
