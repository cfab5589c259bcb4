"""The beat task re-verifies new events; /metrics raises the alarm on a break."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from audit import services
from audit.models import EventType, VerificationRun
from audit.services import Actor
from audit.tasks import verify_new_events
from tests.audit.helpers import bypassing_append_only, raw_sql

pytestmark = pytest.mark.django_db


def gauges(client) -> dict[str, float]:
    text = client.get("/metrics").content.decode()
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def add_events(count: int) -> None:
    for _ in range(count):
        services.record(EventType.RUN_STARTED, Actor.system("engine"))


def test_each_run_verifies_only_the_events_added_since_the_last(client):
    add_events(3)
    verify_new_events()
    add_events(2)

    verify_new_events()

    runs = list(VerificationRun.objects.order_by("finished_at"))
    assert [(r.ok, r.events_verified, r.last_sequence) for r in runs] == [
        (True, 3, 3),
        (True, 2, 5),
    ]
    metrics = gauges(client)
    assert metrics["xconnector_audit_chain_ok"] == 1.0
    assert metrics["xconnector_audit_events"] == 5.0
    assert metrics["xconnector_audit_verified_sequence"] == 5.0


def test_a_break_turns_the_alert_metric_to_zero(client):
    add_events(3)
    verify_new_events()
    add_events(2)
    with bypassing_append_only():
        raw_sql("UPDATE audit_auditevent SET actor_name = 'mallory' WHERE sequence = 4")

    verify_new_events()

    latest = services.last_verification()
    assert (latest.ok, latest.broken_sequence) == (False, 4)
    assert gauges(client)["xconnector_audit_chain_ok"] == 0.0


def test_rewriting_the_last_verified_event_is_caught_by_the_next_run():
    add_events(3)
    verify_new_events()
    with bypassing_append_only():
        raw_sql("UPDATE audit_auditevent SET hash = %s WHERE sequence = 3", ["f" * 64])

    verify_new_events()

    latest = services.last_verification()
    assert (latest.ok, latest.broken_sequence) == (False, 3)
