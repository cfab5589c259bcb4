"""Lens queries: the search action's input as the documented GraphQL
``getTransactions`` call, and its answer as plain output rows."""

from __future__ import annotations

import json
from typing import Any

from connectors.tradinggrid.edi import INVOICE_NUMBER, PO_NUMBER, SHIPMENT_ID
from connectors.tradinggrid.schemas import SearchTransactionsIn, TransactionOut

FIELDS = (
    "transactionid arrivaltime status deliverystatus sendername receivername "
    "senderaddress receiveraddress editype transactionlevel correlationid "
    "errorcode externalerrormessage"
)
KEY_NAMES = [PO_NUMBER, INVOICE_NUMBER, SHIPMENT_ID]


def _string(value: str) -> str:
    return json.dumps(value)  # a GraphQL string literal is a JSON string


def build_query(data: SearchTransactionsIn) -> str:
    """The GraphQL text, in the documented shape."""
    terms = [t for t in (data.query, data.doc_type) if t]
    arguments = [
        f"count:{data.count}",
        f"offset:{data.offset}",
        f"query:{_string(' AND '.join(terms) or '*')}",
        f"sortby:{{field:arrivaltime,type:{'ASC' if data.oldest_first else 'DESC'}}}",
    ]
    if data.content_key and data.content_value:
        key, value = _string(data.content_key), _string(data.content_value)
        arguments.append(f"contentKeyFilters:[{{key:{key},value:{value}}}]")
    must = [
        f"{{field:{field},query:{_string(value)}}}"
        for field, value in (
            ("senderaddress", data.sender_address),
            ("receiveraddress", data.receiver_address),
        )
        if value
    ]
    if must:
        arguments.append(f"fields:{{must:[{','.join(must)}]}}")
    names = ",".join(_string(n) for n in KEY_NAMES)
    return (
        f"{{ getTransactions(query:{{{', '.join(arguments)}}}) "
        f"{{ count total offset transactions {{ {FIELDS} "
        f"contentkeys(names:[{names}]){{key value}} }} }} }}"
    )


def transactions_out(rows: list[dict[str, Any]]) -> list[TransactionOut]:
    return [
        TransactionOut(
            transaction_id=str(row.get("transactionid") or ""),
            arrival_time=str(row.get("arrivaltime") or ""),
            status=str(row.get("status") or ""),
            delivery_status=row.get("deliverystatus"),
            sender_name=row.get("sendername"),
            receiver_name=row.get("receivername"),
            sender_address=row.get("senderaddress"),
            receiver_address=row.get("receiveraddress"),
            editype=row.get("editype"),
            correlation_id=row.get("correlationid"),
            error_code=row.get("errorcode"),
            error_message=row.get("externalerrormessage"),
            content_keys={
                str(k.get("key")): str(k.get("value"))
                for k in row.get("contentkeys") or []
            },
        )
        for row in rows
    ]
