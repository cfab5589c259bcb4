"""Key fields of documents (Lens content keys) and functional
acknowledgements (997, CONTRL)."""

from __future__ import annotations

from connectors.tradinggrid.edi.model import (
    EDIFACT_TYPES,
    INVOICE_NUMBER,
    PO_NUMBER,
    SHIPMENT_ID,
    X12,
    Group,
    Interchange,
    Segment,
    Transaction,
)
from connectors.tradinggrid.edi.writing import build_edifact, build_x12


def key_fields(transaction: Transaction) -> dict[str, str]:
    """Lens content keys of one transaction (PO, invoice, shipment numbers)."""
    first = {s.tag: s for s in reversed(transaction.segments)}
    keys: dict[str, str] = {}

    def put(name: str, value: str) -> None:
        if value:
            keys[name] = value

    kind = transaction.type
    if kind == "850" and "BEG" in first:
        put(PO_NUMBER, first["BEG"].get(3))
    elif kind == "855" and "BAK" in first:
        put(PO_NUMBER, first["BAK"].get(3))
    elif kind == "856" and "BSN" in first:
        put(SHIPMENT_ID, first["BSN"].get(2))
        prf = first.get("PRF")
        put(PO_NUMBER, prf.get(1) if prf else "")
    elif kind == "214" and "B10" in first:  # a carrier's shipment status
        put(SHIPMENT_ID, first["B10"].get(2))
        for segment in transaction.segments:
            if segment.tag == "L11" and segment.get(2) == "PO":
                put(PO_NUMBER, segment.get(1))
    elif kind == "810" and "BIG" in first:
        put(INVOICE_NUMBER, first["BIG"].get(2))
        put(PO_NUMBER, first["BIG"].get(4))
    elif kind in EDIFACT_TYPES and "BGM" in first:
        number = first["BGM"].get(2).split(":")[0]
        name = {"INVOIC": INVOICE_NUMBER, "DESADV": SHIPMENT_ID}.get(kind, PO_NUMBER)
        put(name, number)
        for segment in transaction.segments:
            if segment.tag == "RFF" and segment.get(1).startswith("ON:"):
                put(PO_NUMBER, segment.get(1)[3:])
    return keys


def summary(interchange: Interchange) -> dict[str, object]:
    """The envelope and key fields, as JSON-ready data."""
    transactions = interchange.transactions
    keys: dict[str, str] = {}
    for transaction in transactions:
        for name, value in key_fields(transaction).items():
            keys.setdefault(name, value)
    return {
        "standard": interchange.standard,
        "sender": interchange.sender,
        "receiver": interchange.receiver,
        "control_number": interchange.control_number,
        "doc_type": transactions[0].type if transactions else "",
        "transaction_count": len(transactions),
        "purchase_order_number": keys.get(PO_NUMBER, ""),
        "invoice_number": keys.get(INVOICE_NUMBER, ""),
        "shipment_identification": keys.get(SHIPMENT_ID, ""),
    }


def acknowledgement(
    interchange: Interchange,
    control: str,
    *,
    accepted: bool = True,
    note: str = "",
) -> str:
    """The functional acknowledgement the receiver returns to the sender:
    a 997 for X12, a CONTRL for EDIFACT. ``accepted`` False rejects the
    whole interchange (AK9*R / UCI action 4)."""
    if interchange.standard == X12:
        segments = []
        for group in interchange.groups or [
            Group("PO", interchange.control_number, "", [])
        ]:
            segments.append(Segment("AK1", [group.functional_id, group.control_number]))
            for transaction in group.transactions:
                segments.append(
                    Segment("AK2", [transaction.type, transaction.control_number])
                )
                segments.append(Segment("AK5", ["A" if accepted else "R"]))
            count = str(len(group.transactions))
            segments.append(
                Segment(
                    "AK9",
                    [
                        "A" if accepted else "R",
                        count,
                        count,
                        count if accepted else "0",
                    ],
                )
            )
        ack = Transaction("997", "0001", segments)
        return build_x12(interchange.receiver, interchange.sender, control, [ack])
    sender_id = interchange.sender.partition(":")[2]
    receiver_id = interchange.receiver.partition(":")[2]
    segments = [
        Segment("BGM", ["305"]),
        Segment(
            "UCI",
            [
                interchange.control_number,
                f"{sender_id}:{interchange.sender.partition(':')[0]}",
                f"{receiver_id}:{interchange.receiver.partition(':')[0]}",
                "7" if accepted else "4",
            ],
        ),
    ]
    if note:
        segments.append(Segment("FTX", ["AAO", "", "", note[:70].replace(":", " ")]))
    ack = Transaction("CONTRL", "1", segments)
    return build_edifact(interchange.receiver, interchange.sender, control, [ack])
