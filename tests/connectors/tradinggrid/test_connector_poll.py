"""The "When a document arrives" trigger and its acknowledgement."""

from __future__ import annotations

from datetime import datetime

import pytest

from connectors.base import TriggerEvent
from connectors.tradinggrid.sandbox.models import TgMailboxDocument
from tests.connectors.tradinggrid.conftest import ORDER_850, RETAILER, TRIGGER, run

pytestmark = [
    pytest.mark.urls("tests.connectors.tradinggrid.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def engine_acknowledges(tg, event: TriggerEvent, *, ok: bool = True) -> None:
    """What the flow engine does once the run of ``event`` has committed:
    it rebuilds the event from the run's source_ref and payload."""
    stored = TriggerEvent(event_id=event.event_id, payload=event.payload)
    tg.acknowledge(TRIGGER, {}, stored, ok=ok)


def test_documents_are_handed_over_until_acknowledged(tg):
    # given the retailer's 997 and 855 in our mailbox
    sent = run(
        tg, "send_document", {"receiver_address": RETAILER, "content": ORDER_850}
    )

    # when two polls run before any run has finished
    first = tg.poll(TRIGGER, {}, None)
    second = tg.poll(TRIGGER, {}, first.cursor)

    # then both polls offer the same two events
    assert [e.event_id for e in first.events] == [e.event_id for e in second.events]
    ack, confirmation = first.events
    assert ack.event_id == f"tg-doc-{ack.payload['document_id']}"
    assert confirmation.payload == {
        "document_id": confirmation.payload["document_id"],
        "transaction_id": confirmation.payload["transaction_id"],
        "file_name": confirmation.payload["file_name"],
        "standard": "X12",
        "doc_type": "855",
        "sender": "ZZ:DEMORETAILER",
        "receiver": "ZZ:DEMOSUPPLIER",
        "control_number": confirmation.payload["control_number"],
        "purchase_order_number": "PO-1001",
        "invoice_number": "",
        "shipment_identification": "",
        "transaction_count": 1,
        "correlation_id": sent["transaction_id"],
        "received_at": confirmation.payload["received_at"],
    }
    assert len(confirmation.payload["control_number"]) == 9
    received = confirmation.payload["received_at"].replace("Z", "+00:00")
    assert confirmation.occurred_at == datetime.fromisoformat(received)
    document = confirmation.documents[0]
    assert document.media_type == "application/edi-x12"
    assert document.read().decode().startswith("ISA*00*")

    # when the run of the 997 commits
    engine_acknowledges(tg, ack)
    third = tg.poll(TRIGGER, {}, second.cursor)

    # then only the 855 is offered again
    assert [e.event_id for e in third.events] == [confirmation.event_id]

    # when the 855's run commits too (and the engine repeats the call)
    engine_acknowledges(tg, confirmation)
    engine_acknowledges(tg, confirmation)

    # then the mailbox has nothing new
    assert tg.poll(TRIGGER, {}, third.cursor).events == []
    statuses = TgMailboxDocument.objects.filter(mailbox="GC00804444LX").values_list(
        "status", flat=True
    )
    assert sorted(statuses) == ["acknowledged", "acknowledged"]


def test_a_failed_run_marks_the_document_failed_with_the_reason(tg):
    # given
    run(tg, "send_document", {"receiver_address": RETAILER, "content": ORDER_850})
    ack, _ = tg.poll(TRIGGER, {}, None).events

    # when
    stored = TriggerEvent(event_id=ack.event_id, payload=ack.payload)
    tg.acknowledge(TRIGGER, {}, stored, ok=False, reason="No ERP order PO-1001.")

    # then
    document = TgMailboxDocument.objects.get(pk=ack.payload["document_id"])
    assert (document.status, document.reason) == ("failed", "No ERP order PO-1001.")
    assert [e.payload["doc_type"] for e in tg.poll(TRIGGER, {}, None).events] == ["855"]


def test_only_the_document_types_asked_for_are_handed_over(tg):
    run(tg, "send_document", {"receiver_address": RETAILER, "content": ORDER_850})

    events = tg.poll(TRIGGER, {"doc_types": ["855"]}, None).events

    assert [e.payload["doc_type"] for e in events] == ["855"]


def test_an_empty_mailbox_gives_no_events(tg):
    result = tg.poll(TRIGGER, {}, None)

    assert result.events == []
    assert result.cursor is None
