"""Sending documents: envelopes, partner replies, repeats and refusals."""

from __future__ import annotations

import pytest

from connectors.base import ActionContext, Document
from connectors.errors import PartnerError, PermanentError
from connectors.tradinggrid import edi
from connectors.tradinggrid.sandbox.models import TgTransaction
from tests.connectors.tradinggrid.conftest import (
    DISTRIBUTOR,
    ORDER_850,
    RETAILER,
    SUPPLIER,
    TRIGGER,
    run,
)

pytestmark = [
    pytest.mark.urls("tests.connectors.tradinggrid.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def test_an_850_to_the_demo_retailer_brings_back_a_997_and_an_855(tg):
    # given bare purchase-order segments from the ERP
    values = {"receiver_address": RETAILER, "content": ORDER_850}

    # when
    sent = run(tg, "send_document", values, key="run-1:send")
    arrived = tg.poll(TRIGGER, {}, None).events

    # then the 850 went out in an envelope numbered from the idempotency key
    control = edi.control_number("run-1:send")
    assert sent["status"] == "Delivered"
    assert sent["standard"] == "X12"
    assert sent["doc_type"] == "850"
    assert sent["control_number"] == control
    assert sent["duplicate"] is False
    stored = TgTransaction.objects.get(transaction_id=sent["transaction_id"])
    assert stored.content_keys == {"purchase order number": "PO-1001"}
    envelope = edi.parse(stored.payload)
    assert (envelope.sender, envelope.receiver) == (SUPPLIER, RETAILER)
    assert envelope.control_number == control
    # and the retailer acknowledged it (997) and confirmed the order (855)
    assert [e.payload["doc_type"] for e in arrived] == ["997", "855"]
    ack, confirmation = arrived
    assert ack.payload["sender"] == RETAILER
    assert ack.payload["receiver"] == SUPPLIER
    assert ack.payload["correlation_id"] == sent["transaction_id"]
    ack_text = ack.documents[0].read().decode()
    group = envelope.groups[0].control_number
    assert f"AK1*PO*{group}~AK2*850*0001~AK5*A~AK9*A*1*1*1~" in ack_text
    assert confirmation.payload["purchase_order_number"] == "PO-1001"
    assert confirmation.payload["correlation_id"] == sent["transaction_id"]
    bak = edi.parse(confirmation.documents[0].read().decode()).transactions[0]
    assert bak.segments[0] == edi.Segment("BAK", ["00", "AC", "PO-1001", "20261123"])


def test_a_retried_send_is_recognised_and_not_delivered_twice(tg):
    # given a send that reached Trading Grid before the run crashed
    values = {"receiver_address": RETAILER, "content": ORDER_850}
    first = run(tg, "send_document", values, key="run-2:send")

    # when the engine retries the step with the same idempotency key
    again = run(tg, "send_document", values, key="run-2:send")

    # then
    assert again["duplicate"] is True
    assert again["transaction_id"] == first["transaction_id"]
    assert again["control_number"] == first["control_number"]
    assert TgTransaction.objects.filter(doc_type="850").count() == 1
    assert [e.payload["doc_type"] for e in tg.poll(TRIGGER, {}, None).events] == [
        "997",
        "855",
    ]


def test_the_runs_document_is_sent_when_no_content_is_given(tg):
    # given a complete interchange from elsewhere, with other addresses
    original = edi.build_x12(
        "ZZ:SOMEONE", "ZZ:ELSE", "000000001", edi.segments_from_text(ORDER_850, "X12")
    )
    document = Document.from_bytes("po-1001.x12", original.encode())
    context = ActionContext(idempotency_key="run-3:send", documents=[document])

    # when
    sent, _ = tg.run_action(
        "send_document", {"receiver_address": RETAILER, "doc_type": "850"}, context
    )

    # then it was re-enveloped with our address and a control number of ours
    stored = TgTransaction.objects.get(transaction_id=sent["transaction_id"])
    envelope = edi.parse(stored.payload)
    assert (envelope.sender, envelope.receiver) == (SUPPLIER, RETAILER)
    assert envelope.control_number == edi.control_number("run-3:send")
    assert stored.file_name == "po-1001.x12"


def test_an_edifact_order_to_the_distributor_brings_back_contrl_and_ordrsp(tg):
    # given
    orders = "UNH+1+ORDERS:D:96A:UN'BGM+220+PO-2002+9'UNT+3+1'"

    # when
    sent = run(
        tg, "send_document", {"receiver_address": DISTRIBUTOR, "content": orders}
    )
    arrived = tg.poll(TRIGGER, {}, None).events

    # then
    assert (sent["standard"], sent["doc_type"]) == ("EDIFACT", "ORDERS")
    assert [e.payload["doc_type"] for e in arrived] == ["CONTRL", "ORDRSP"]
    contrl = edi.parse(arrived[0].documents[0].read().decode())
    assert contrl.transactions[0].segments[1].get(4) == "7"  # accepted
    assert arrived[1].payload["purchase_order_number"] == "PO-2002"
    assert arrived[1].payload["sender"] == DISTRIBUTOR


def test_an_xml_document_is_sent_with_a_control_number_of_its_own(tg):
    values = {
        "receiver_address": RETAILER,
        "doc_type": "ASN-XML",
        "content": "<Shipment><Id>S-1</Id></Shipment>",
    }

    first = run(tg, "send_document", values, key="run-4:xml")
    again = run(tg, "send_document", values, key="run-4:xml")

    assert (first["standard"], first["doc_type"]) == ("XML", "ASN-XML")
    assert again["duplicate"] is True
    assert TgTransaction.objects.filter(editype="XML").count() == 1


def test_a_partner_unknown_to_the_network_is_a_partner_error(tg):
    # when
    with pytest.raises(PartnerError) as raised:
        run(
            tg, "send_document", {"receiver_address": "ZZ:NOBODY", "content": ORDER_850}
        )

    # then: a person has to take it up with the partner (not retried)
    assert raised.value.retryable is False
    assert raised.value.partner == "ZZ:NOBODY"
    assert raised.value.status == 404
    assert raised.value.message == (
        "Trading Grid refused the request (HTTP 404 Not Found): No trading "
        "partner has the address ZZ:NOBODY: check the partner directory."
    )


def test_a_malformed_document_is_refused_before_it_is_sent(tg):
    with pytest.raises(edi.EdiError) as raised:
        run(
            tg,
            "send_document",
            {
                "receiver_address": RETAILER,
                "content": ORDER_850.replace("SE*5", "SE*7"),
            },
        )

    assert raised.value.message == (
        "SE01 says 7 segments but the transaction set has 5."
    )
    assert not TgTransaction.objects.exists()


def test_a_document_type_that_is_not_in_the_document_is_refused(tg):
    with pytest.raises(PermanentError) as raised:
        run(
            tg,
            "send_document",
            {"receiver_address": RETAILER, "doc_type": "810", "content": ORDER_850},
        )

    assert raised.value.message == (
        "The document holds 850, not 810: check the document type."
    )


def test_nothing_to_send_is_a_clear_error(tg):
    with pytest.raises(PermanentError) as raised:
        run(tg, "send_document", {"receiver_address": RETAILER})

    assert raised.value.message == (
        "There is nothing to send: give the content, or run the action on a document."
    )
