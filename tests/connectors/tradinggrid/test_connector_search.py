"""Lens transaction search through the documented GraphQL shape."""

from __future__ import annotations

import pytest

from connectors.tradinggrid.lens import build_query
from connectors.tradinggrid.schemas import SearchTransactionsIn
from tests.connectors.tradinggrid.conftest import ORDER_850, RETAILER, run

pytestmark = [
    pytest.mark.urls("tests.connectors.tradinggrid.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]

INVOICE_810 = (
    "ST*810*0001~BIG*20261124*INV-55**PO-1001~IT1*1*10*EA*2.50**VP*WIDGET~"
    "TDS*2500~SE*5*0001~"
)


def test_the_query_has_the_documented_shape():
    query = build_query(
        SearchTransactionsIn(
            query="DEMO*",
            doc_type="850",
            sender_address="ZZ:DEMOSUPPLIER",
            content_key="purchase order number",
            content_value="PO-*",
            oldest_first=True,
        )
    )

    assert query == (
        '{ getTransactions(query:{count:20, offset:0, query:"DEMO* AND 850", '
        "sortby:{field:arrivaltime,type:ASC}, "
        'contentKeyFilters:[{key:"purchase order number",value:"PO-*"}], '
        'fields:{must:[{field:senderaddress,query:"ZZ:DEMOSUPPLIER"}]}}) '
        "{ count total offset transactions { transactionid arrivaltime status "
        "deliverystatus sendername receivername senderaddress receiveraddress "
        "editype transactionlevel correlationid errorcode externalerrormessage "
        'contentkeys(names:["purchase order number","invoice number",'
        '"shipment identification"]){key value} } } }'
    )


def test_transactions_are_found_by_type_sender_and_key_field(tg):
    # given an 850 and an 810 sent, and the retailer's 997s and 855
    order = run(
        tg, "send_document", {"receiver_address": RETAILER, "content": ORDER_850}
    )
    invoice = run(
        tg,
        "send_document",
        {"receiver_address": RETAILER, "content": INVOICE_810},
        key="invoice",
    )

    # when
    orders = run(tg, "search_transactions", {"doc_type": "850"})
    from_retailer = run(
        tg, "search_transactions", {"sender_address": RETAILER, "oldest_first": True}
    )
    about_po = run(
        tg,
        "search_transactions",
        {"content_key": "purchase order number", "content_value": "PO-1001"},
    )
    page = run(tg, "search_transactions", {"count": 2, "offset": 1})

    # then
    assert orders["total"] == 1
    found = orders["transactions"][0]
    assert found == {
        "transaction_id": order["transaction_id"],
        "arrival_time": found["arrival_time"],
        "status": "Delivered",
        "delivery_status": "Delivered",
        "sender_name": "Demo Supplier Inc.",
        "receiver_name": "Demo Retailer Corp.",
        "sender_address": "ZZ:DEMOSUPPLIER",
        "receiver_address": RETAILER,
        "editype": "X12",
        "correlation_id": None,
        "error_code": None,
        "error_message": None,
        "content_keys": {"purchase order number": "PO-1001"},
    }
    assert found["arrival_time"].endswith("Z")
    # the retailer sent a 997 and an 855 for the order, and a 997 for the invoice
    assert from_retailer["total"] == 3
    assert [t["correlation_id"] for t in from_retailer["transactions"]] == [
        order["transaction_id"],
        order["transaction_id"],
        invoice["transaction_id"],
    ]
    assert {t["transaction_id"] for t in about_po["transactions"]} >= {
        order["transaction_id"],
        invoice["transaction_id"],
    }
    assert about_po["total"] == 3  # the 850, the 855 and the 810
    assert (page["count"], page["total"], page["offset"]) == (2, 5, 1)
