"""Audit events form a hash chain that shows any change, gap or rewrite."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit import canonical, rows, services
from audit.models import AuditEvent, ChainHead, EventType
from audit.services import Actor
from tests.audit.helpers import bypassing_append_only, raw_sql

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("flow engine")


def record_three() -> list[AuditEvent]:
    return [
        services.record(
            EventType.DOCUMENT_TRANSFERRED,
            SYSTEM,
            summary=f"Invoice INV-{n} filed",
            business_object="contract:C-1042",
            document_ref=f"billing:INV-{n}",
            document_sha256="AB" * 32,
            document_size=1000 + n,
            payload={"n": n, "amount": 12.5},
        )
        for n in (1, 2, 3)
    ]


def test_each_event_links_to_the_one_before():
    first, second, third = record_three()

    assert [e.sequence for e in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash == canonical.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert ChainHead.objects.get(pk=1).hash == third.hash
    assert first.document_sha256 == "ab" * 32


def test_stored_events_recompute_to_their_hash():
    record_three()

    result = services.verify_chain()

    assert result.ok is True
    assert result.events_verified == 3
    assert result.last_sequence == 3


def test_an_event_recorded_in_a_rolled_back_transaction_leaves_no_gap():
    record_three()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record(EventType.RUN_STARTED, SYSTEM)
        raise RuntimeError("the change it described failed")

    fourth = services.record(EventType.RUN_STARTED, SYSTEM)

    assert fourth.sequence == 4
    assert services.verify_chain().ok is True


def test_record_many_appends_in_order_under_one_lock():
    first = services.record(EventType.RUN_STARTED, SYSTEM, run_id=7)
    batch = services.record_many(
        [
            services.Event(
                EventType.DOCUMENT_TRANSFERRED,
                SYSTEM,
                run_id=7,
                document_ref=f"billing:INV-{n}",
                payload={"n": n, "api_key": "k-123"},
            )
            for n in range(3)
        ]
    )

    assert [event.sequence for event in batch] == [2, 3, 4]
    assert batch[0].prev_hash == first.hash
    assert [event.prev_hash for event in batch[1:]] == [e.hash for e in batch[:2]]
    stored = AuditEvent.objects.get(pk=batch[2].pk)
    assert (stored.sequence, stored.document_ref) == (4, "billing:INV-2")
    assert stored.payload == {"n": 2, "api_key": "(secret)"}
    assert ChainHead.objects.get(pk=1).sequence == 4
    assert services.verify_chain().events_verified == 4


def test_a_row_hashes_exactly_like_the_recorded_event():
    """The tuple path of verify and export builds the very bytes record hashed:
    awkward text (quotes, control characters, non-Latin script, emoji), big
    and negative numbers, nested payloads, nulls."""
    event = services.record(
        EventType.CONFIG_CHANGED,
        Actor("user", 'Zoë "Q" O\'Brien \\ \t 田中', 42),
        summary="line one\nline two\r\x01\x1f \u2028 😀 </script>",
        business_object="vendor:Ä/Ö",
        document_size=2**62,
        occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds
        payload={
            "z": [1, -2.5, None, True, {"b": "\u00e9", "a": "\x7f"}],
            "a": {"nested": {"deep": 'ä"\\'}},
            "Émoji": "🧾",
        },
    )
    row = next(iter(rows.iterate(AuditEvent.objects.all())))

    assert row[rows.HASH] == event.hash
    assert rows.row_hash(event.prev_hash, row) == event.hash
    assert row[rows.OCCURRED_AT] == "2026-01-02T03:04:05.000000Z"


def test_audit_verify_prints_the_count_when_the_chain_holds(capsys):
    record_three()

    call_command("audit_verify")

    assert capsys.readouterr().out == "OK: 3 events verified.\n"


def test_a_changed_value_is_found_with_its_sequence_number(capsys):
    record_three()
    with bypassing_append_only():
        raw_sql("UPDATE audit_auditevent SET summary = 'nothing' WHERE sequence = 2")

    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify")

    assert exit_info.value.code == 1
    assert capsys.readouterr().err == (
        "The chain is broken at event #2: "
        "its content was changed after it was recorded.\n"
    )


def test_a_changed_payload_value_is_found():
    record_three()
    with bypassing_append_only():
        AuditEvent.objects.filter(sequence=3).update(payload={"n": 3, "amount": 1})

    result = services.verify_chain()

    assert (result.ok, result.broken_sequence) == (False, 3)


def test_a_removed_event_is_found():
    record_three()
    with bypassing_append_only():
        raw_sql("DELETE FROM audit_auditevent WHERE sequence = 2")

    result = services.verify_chain()

    assert result.ok is False
    assert result.detail == "The chain is broken at event #2: event #2 is missing."


def test_a_removed_newest_event_is_found_against_the_head():
    record_three()
    with bypassing_append_only():
        raw_sql("DELETE FROM audit_auditevent WHERE sequence = 3")

    result = services.verify_chain()

    assert result.ok is False
    assert result.broken_sequence == 3


def test_removing_every_event_is_found_against_the_head():
    record_three()
    with bypassing_append_only():
        raw_sql("DELETE FROM audit_auditevent")

    result = services.verify_chain()

    assert result.ok is False
    assert result.detail == (
        "The chain is broken at event #1: the newest events up to #3 are missing."
    )


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET summary = 'x' WHERE sequence = 1",
        "DELETE FROM audit_auditevent WHERE sequence = 1",
    ],
    ids=["update", "delete"],
)
def test_postgresql_refuses_update_and_delete(statement):
    record_three()

    with pytest.raises(DatabaseError, match="Cannot"), transaction.atomic():
        raw_sql(statement)

    assert services.verify_chain().ok is True


def test_sqlite_refuses_update_too():
    if connection.vendor != "sqlite":
        pytest.skip(
            "PostgreSQL is covered by test_postgresql_refuses_update_and_delete"
        )
    record_three()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw_sql("UPDATE audit_auditevent SET summary = 'x' WHERE sequence = 1")


def test_signed_head_detects_a_rewrite_of_the_whole_tail(tmp_path, capsys):
    record_three()
    head = services.signed_head()
    (tmp_path / "head.json").write_text(json.dumps(head))
    # An attacker rewrites event 3 and re-computes its hash: the chain holds...
    event = AuditEvent.objects.get(sequence=3)
    fields = {name: getattr(event, name) for name in canonical.HASHED_FIELDS}
    fields["summary"] = "Invoice INV-3 never existed"
    forged = canonical.chain_hash(event.prev_hash, fields)
    with bypassing_append_only():
        AuditEvent.objects.filter(sequence=3).update(
            summary=fields["summary"], hash=forged
        )
        ChainHead.objects.filter(pk=1).update(hash=forged)
    assert services.verify_chain().ok is True

    # ...but not against the head the auditor kept.
    with pytest.raises(SystemExit):
        call_command("audit_verify", head=tmp_path / "head.json")

    err = capsys.readouterr().err
    assert err == "Event #3 was rewritten after the head was signed.\n"


def test_a_forged_head_signature_is_refused():
    record_three()
    head = services.signed_head() | {"sequence": 2}

    ok, message = services.verify_signed_head(head)

    assert ok is False
    assert message.startswith("The signature does not match")
