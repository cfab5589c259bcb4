"""The emulated network's own rules, over HTTP with the connector's client:
malformed interchanges, repeats, envelopes, the partner directory and the
scripted partners."""

from __future__ import annotations

import pytest

from connectors.errors import AuthError, PermanentError
from connectors.tradinggrid import edi
from connectors.tradinggrid.sandbox.models import TgTransaction
from tests.connectors.tradinggrid.conftest import ORDER_850, RETAILER, SUPPLIER

pytestmark = [
    pytest.mark.urls("tests.connectors.tradinggrid.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def interchange(control: str = "000000123", body: str = ORDER_850) -> str:
    transactions = edi.segments_from_text(body, "X12")
    return edi.build_x12(SUPPLIER, RETAILER, control, transactions)


def test_a_truncated_interchange_is_rejected_with_a_negative_997(tg):
    # given an interchange cut off before its IEA
    truncated = interchange().split("IEA*")[0]

    # when
    with pytest.raises(PermanentError) as raised:
        tg.client.send(truncated, RETAILER, "850")

    # then the sender is told what is wrong
    assert raised.value.status == 400
    assert raised.value.message == (
        "Trading Grid refused the request (HTTP 400 Bad Request): The "
        "interchange was rejected: The interchange is cut short: IEA missing "
        "to close interchange 000000123."
    )
    rejected = TgTransaction.objects.get(status="Rejected")
    assert rejected.error_code == "MALFORMED_INTERCHANGE"
    # and gets a negative functional acknowledgement, not the partner's 855
    inbound = tg.client.inbound()
    assert [(d["docType"], d["senderAddress"]) for d in inbound] == [("997", RETAILER)]
    nak = edi.parse(tg.client.content(inbound[0]["documentId"]).read().decode())
    assert nak.transactions[0].segments == [
        edi.Segment("AK1", ["PO", "000000123"]),
        edi.Segment("AK9", ["R", "0", "0", "0"]),
    ]


def test_a_repeated_control_number_is_recognised(tg):
    first, repeat = tg.client.send(interchange(), RETAILER, "850")
    again, repeated = tg.client.send(interchange(), RETAILER, "850")

    assert (repeat, repeated) == (False, True)
    assert again["transactionId"] == first["transactionId"]
    assert TgTransaction.objects.filter(doc_type="850").count() == 1


def test_an_envelope_from_another_sender_is_refused(tg):
    forged = edi.build_x12(
        "ZZ:MALLORY", RETAILER, "1", edi.segments_from_text(ORDER_850, "X12")
    )

    with pytest.raises(PermanentError) as raised:
        tg.client.send(forged, RETAILER, "850")

    assert raised.value.message.endswith(
        "The envelope names the sender ZZ:MALLORY, but this mailbox sends as "
        "ZZ:DEMOSUPPLIER."
    )


def test_an_810_with_a_wrong_total_gets_a_corrected_810(tg):
    # given an invoice whose TDS says 30.00 but whose lines add up to 25.00
    wrong = (
        "ST*810*0001~BIG*20261124*INV-55**PO-1001~IT1*1*10*EA*2.50**VP*WIDGET~"
        "TDS*3000~SE*5*0001~"
    )

    # when
    tg.client.send(interchange(body=wrong), RETAILER, "810")

    # then
    inbound = tg.client.inbound()
    assert [d["docType"] for d in inbound] == ["997", "810"]
    corrected = edi.parse(tg.client.content(inbound[1]["documentId"]).read().decode())
    segments = {s.tag: s for s in corrected.transactions[0].segments}
    assert segments["TDS"].elements == ["2500"]
    assert segments["BIG"].elements == [
        "20261124",
        "INV-55",
        "",
        "PO-1001",
        "",
        "",
        "",
        "CO",
    ]


def test_an_810_with_the_right_total_gets_only_its_997(tg):
    right = (
        "ST*810*0001~BIG*20261124*INV-56**PO-1001~IT1*1*10*EA*2.50**VP*WIDGET~"
        "TDS*2500~SE*5*0001~"
    )

    tg.client.send(interchange(body=right), RETAILER, "810")

    assert [d["docType"] for d in tg.client.inbound()] == ["997"]


def test_the_partner_directory_filters_by_name(tg):
    everyone = tg.client.partners()
    retailers = tg.client.partners("retail")

    assert [p["partnerCompanyName"] for p in everyone] == [
        "Demo Retailer Corp.",
        "Demo Distributor GmbH",
    ]
    assert retailers == [
        {
            "partnerCompanyId": "GC00900001RT",
            "partnerCompanyName": "Demo Retailer Corp.",
            "ediAddresses": ["ZZ:DEMORETAILER"],
            "standard": "X12",
            "relationshipStatus": "Active",
        }
    ]


def test_a_document_of_another_mailbox_is_not_found(tg):
    with pytest.raises(PermanentError) as raised:
        tg.client.ack("999999")

    assert raised.value.status == 404


def test_one_inbound_document_is_fetched_by_id(tg):
    # given the retailer's 997 for our 850
    first, _ = tg.client.send(interchange(), RETAILER, "850")
    listed = tg.client.inbound()[0]

    # when
    path = f"{tg.client.mailbox}/inbound/{listed['documentId']}"
    fetched = tg.client.http.request_json("GET", path)

    # then
    assert fetched == listed
    assert fetched["docType"] == "997"
    assert fetched["correlationId"] == first["transactionId"]
    assert fetched["status"] == "new"


def test_another_companys_mailbox_is_forbidden(tg):
    with pytest.raises(AuthError) as raised:
        tg.client.http.request_json("GET", "mailboxes/GC00900001RT/inbound")

    assert raised.value.status == 403
