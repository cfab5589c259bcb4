"""Collaboration threads: open, post with attachments, close, request a
document; and the demo retailer's delay notice after an 856."""

from __future__ import annotations

import base64

import pytest

from connectors.base import ActionContext, Document
from connectors.errors import PermanentError, TransientError
from connectors.tradinggrid.sandbox.models import TgMessage, TgThread
from tests.connectors.tradinggrid.conftest import DISTRIBUTOR, RETAILER, run

pytestmark = [
    pytest.mark.urls("tests.connectors.tradinggrid.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]

SHIPMENT_856 = "ST*856*0001~BSN*00*SH-778*20261124*1200~PRF*PO-1001~SE*4*0001~"


def test_a_thread_is_opened_once_per_case(tg):
    # given
    values = {
        "partner_address": RETAILER,
        "subject": "Damaged pallet on PO-1001",
        "case_reference": "CASE-1",
        "text": "Pallet 3 arrived damaged.",
    }

    # when the step runs twice (a retry after a crash)
    first = run(tg, "open_thread", values, key="run-5:open")
    again = run(tg, "open_thread", values, key="run-5:open")

    # then
    assert first == again
    assert first["subject"] == "Damaged pallet on PO-1001"
    assert first["case_reference"] == "CASE-1"
    assert first["status"] == "open"
    assert first["partner_address"] == RETAILER
    assert TgThread.objects.count() == 1
    assert list(TgMessage.objects.values_list("text", flat=True)) == [
        "Pallet 3 arrived damaged."
    ]


def test_a_message_carries_the_runs_documents_and_may_close_the_thread(tg):
    # given an open thread
    thread = run(
        tg,
        "open_thread",
        {
            "partner_address": RETAILER,
            "subject": "Invoice INV-55",
            "case_reference": "C2",
        },
    )
    photo = Document.from_bytes("pallet.jpg", b"\xff\xd8jpeg", media_type="image/jpeg")
    context = ActionContext(idempotency_key="run-6:post", documents=[photo])

    # when
    posted, _ = tg.run_action(
        "post_message",
        {"thread_id": thread["thread_id"], "text": "See photo.", "status": "closed"},
        context,
    )

    # then the partner acknowledged it, the thread is closed
    assert posted["thread_id"] == thread["thread_id"]
    assert posted["partner_acknowledged"] is True
    assert posted["thread_status"] == "closed"
    assert posted["attachments"] == ["pallet.jpg"]
    message = TgMessage.objects.get(pk=posted["message_id"])
    assert message.attachments == [
        {
            "fileName": "pallet.jpg",
            "mediaType": "image/jpeg",
            "size": 6,
            "content": base64.b64encode(b"\xff\xd8jpeg").decode(),
        }
    ]


def test_a_repeated_post_is_one_message(tg):
    thread = run(
        tg,
        "open_thread",
        {"partner_address": RETAILER, "subject": "Question", "case_reference": "C3"},
    )
    values = {"thread_id": thread["thread_id"], "text": "Any news?"}

    first = run(tg, "post_message", values, key="run-7:post")
    again = run(tg, "post_message", values, key="run-7:post")

    assert again["message_id"] == first["message_id"]
    assert TgMessage.objects.count() == 1


def test_a_document_is_requested_on_the_thread_of_its_reference(tg):
    # when
    asked = run(
        tg,
        "request_document",
        {"partner_address": RETAILER, "doc_type": "856", "reference": "PO-1001"},
        key="run-8:ask",
    )
    asked_again = run(
        tg,
        "request_document",
        {"partner_address": RETAILER, "doc_type": "856", "reference": "PO-1001"},
        key="run-9:ask",
    )

    # then both requests went to the one thread of PO-1001, which the
    # retailer answered once with the document
    thread = TgThread.objects.get()
    assert thread.subject == "Request for 856 PO-1001"
    assert thread.case_reference == "REQ-856-PO-1001"
    assert asked["thread_id"] == asked_again["thread_id"] == str(thread.pk)
    assert asked["partner_acknowledged"] is True
    messages = TgMessage.objects.order_by("id")
    assert [(m.text, m.requested_doc_type) for m in messages] == [
        ("Please send the 856 for PO-1001.", "856"),
        ("Here is the 856 for PO-1001.", ""),
        ("Please send the 856 for PO-1001.", "856"),
    ]

    # and collecting what the partner sent hands over its PDF
    fetched, documents = tg.run_action(
        "fetch_documents",
        {"thread_id": asked["thread_id"]},
        ActionContext(idempotency_key="run-8:fetch"),
    )
    assert fetched["partner_address"] == RETAILER
    assert [(f["file_name"], f["media_type"]) for f in fetched["files"]] == [
        ("856-PO-1001.pdf", "application/pdf")
    ]
    (pdf,) = documents
    content = b"".join(pdf)
    assert content.startswith(b"%PDF-") and len(content) == fetched["files"][0]["size"]


def test_collecting_from_a_silent_partner_waits_and_says_so(tg):
    asked = run(
        tg,
        "request_document",
        {"partner_address": RETAILER, "doc_type": "TAX", "reference": "NOREPLY-1"},
    )

    with pytest.raises(TransientError) as waiting:
        run(tg, "fetch_documents", {"thread_id": asked["thread_id"]})

    assert waiting.value.message == (
        "ZZ:DEMORETAILER has not sent anything on “Request for TAX NOREPLY-1” "
        "yet: the step will look again later."
    )
    assert asked["partner_acknowledged"] is False


def test_a_recall_reaches_each_partner_and_acknowledgements_are_counted(tg):
    recall = {
        "partner_addresses": [RETAILER, DISTRIBUTOR, RETAILER],
        "subject": "Recall of batch B-77",
        "case_reference": "RECALL-B-77",
        "text": "Stop selling batch B-77 and confirm the quantities you hold.",
    }

    first = run(tg, "notify_partners", recall, key="run-3:recall")
    again = run(tg, "notify_partners", recall, key="run-3:recall")  # a retry

    assert first == again
    assert [t["partner_address"] for t in first["threads"]] == [RETAILER, DISTRIBUTOR]
    assert TgThread.objects.filter(case_reference="RECALL-B-77").count() == 2
    assert TgMessage.objects.count() == 2
    counted = run(tg, "acknowledgements", {"case_reference": "RECALL-B-77"})
    assert counted == {
        "case_reference": "RECALL-B-77",
        "acknowledged": [RETAILER, DISTRIBUTOR],
        "pending": [],
        "all_acknowledged": True,
        "summary": "2 of 2 partners acknowledged",
    }
    silent = run(
        tg,
        "notify_partners",
        {
            **recall,
            "case_reference": "RECALL-NOREPLY",
            "partner_addresses": [DISTRIBUTOR],
        },
    )
    assert silent["threads"][0]["acknowledged"] is False
    assert (
        run(tg, "acknowledgements", {"case_reference": "RECALL-NOREPLY"})["summary"]
        == "0 of 1 partners acknowledged; waiting for ZZZ:DEMODIST"
    )


def test_an_856_is_followed_by_a_delay_notice_on_a_thread(tg):
    # when
    run(tg, "send_document", {"receiver_address": RETAILER, "content": SHIPMENT_856})

    # then the retailer opened a thread about the shipment
    thread = TgThread.objects.get()
    assert thread.subject == "Shipment SH-778"
    assert thread.case_reference == "ASN-SH-778"
    notice = thread.tgmessage_set.get()
    assert notice.text == (
        "Receiving at our distribution center is delayed by one day: shipment "
        "SH-778 will be received on the next business day."
    )
    assert tg.client.find_threads("ASN-SH-778")[0]["partnerAddress"] == RETAILER


def test_a_thread_with_an_unknown_partner_is_refused(tg):
    with pytest.raises(PermanentError) as raised:
        run(tg, "open_thread", {"partner_address": "ZZ:NOBODY", "subject": "Hi"})

    assert raised.value.status == 404
