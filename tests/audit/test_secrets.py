"""Secrets never reach the audit trail, its logs or its diffs."""

from __future__ import annotations

import logging

import pytest

from audit import services
from audit.models import AuditEvent, EventType
from audit.redaction import SECRET, SECRET_CHANGED
from audit.services import Actor

pytestmark = pytest.mark.django_db
ADA = Actor("user", "ada", 7)


def test_secret_named_values_are_masked_at_any_depth(caplog):
    caplog.set_level(logging.DEBUG)

    event = services.record(
        EventType.RUN_STARTED,
        ADA,
        payload={
            "customer": "Contoso",
            "password": "hunter2-hunter2",
            "request": {
                "headers": {"Authorization": "Bearer eyJ.super.secret"},
                "otcsticket": "TICKET-123",
            },
            "items": [{"client_secret": "cs-999", "qty": 2}],
        },
    )

    stored = AuditEvent.objects.get(pk=event.pk).payload
    assert stored == {
        "customer": "Contoso",
        "password": SECRET,
        "request": {"headers": {"Authorization": SECRET}, "otcsticket": SECRET},
        "items": [{"client_secret": SECRET, "qty": 2}],
    }
    for secret in ("hunter2", "eyJ.super.secret", "TICKET-123", "cs-999"):
        assert secret not in caplog.text
        assert secret not in str(stored)


def test_config_change_diff_says_a_secret_changed_but_not_what():
    event = services.record_config_change(
        ADA,
        object_type="Connection",
        object_id=3,
        object_name="Dynamics prod",
        before={"base_url": "https://a.example", "client_secret": "old-s3cret"},
        after={"base_url": "https://b.example", "client_secret": "new-s3cret"},
        secret_fields=["client_secret"],
        connection_id=3,
    )

    payload = AuditEvent.objects.get(pk=event.pk).payload
    assert payload["action"] == "changed"
    assert payload["changed"] == {
        "base_url": {"before": "https://a.example", "after": "https://b.example"},
        "client_secret": {"before": SECRET_CHANGED, "after": SECRET_CHANGED},
    }
    assert payload["after"]["client_secret"] == SECRET
    assert "s3cret" not in str(payload)
    assert event.summary == "Connection “Dynamics prod” changed"


def test_declared_secret_fields_are_masked_even_with_innocent_names():
    event = services.record_config_change(
        ADA,
        object_type="Connection",
        object_id=4,
        object_name="SFTP drop",
        before=None,
        after={"host": "files.example", "pin": "4321"},
        secret_fields=["pin"],
    )

    payload = AuditEvent.objects.get(pk=event.pk).payload
    assert payload["action"] == "created"
    assert payload["after"] == {"host": "files.example", "pin": SECRET}
    assert payload["changed"]["pin"] == {
        "before": SECRET_CHANGED,
        "after": SECRET_CHANGED,
    }
