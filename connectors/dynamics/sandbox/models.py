"""The Dataverse emulator's state (demo and tests only).

Everything lives in the database so that the web and worker processes of
the demo see one Dataverse environment.
"""

from __future__ import annotations

import uuid

from django.db import models


class DvRecord(models.Model):
    """One row of an emulated Dataverse table.

    ``version`` comes from one counter shared by all tables: it is the row's
    ETag (``W/"<version>"``) and the change-tracking watermark. A deleted row
    stays as a tombstone (``deleted``) so that a delta link can report it.

    live --(PATCH)--> live (version bumped) --(DELETE)--> deleted
    """

    entity_set = models.CharField(max_length=100)
    record_id = models.UUIDField(default=uuid.uuid4)
    data = models.JSONField(default=dict)
    version = models.BigIntegerField(db_index=True)
    created_on = models.DateTimeField()
    modified_on = models.DateTimeField()
    deleted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity_set", "record_id"], name="dv_record_unique_id"
            )
        ]
        indexes = [models.Index(fields=["entity_set", "version"])]

    def __str__(self) -> str:
        return f"{self.entity_set}({self.record_id})"


class DvFault(models.Model):
    """A failure queued by the emulator-only ``_sandbox/faults`` endpoint: the
    next ``remaining`` Web API calls answer ``status`` (429 with Retry-After
    ``seconds``)."""

    status = models.PositiveSmallIntegerField()
    remaining = models.PositiveIntegerField(default=1)
    seconds = models.FloatField(default=1)

    def __str__(self) -> str:
        return f"{self.status} x{self.remaining}"


class DvSetting(models.Model):
    """An emulator knob: ``token_lifetime`` (seconds), ``token_generation``
    (bumped to revoke every token issued before)."""

    name = models.CharField(max_length=50, unique=True)
    value = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
