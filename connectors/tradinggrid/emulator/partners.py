"""The scripted demo partners: small, deterministic replies.

- The demo retailer (X12) answers an 850 purchase order with an 855
  acknowledgement (BAK*00*AC, the PO number and date echoed), an 810 whose
  TDS total does not equal the sum of its IT1 lines with a corrected 810
  (BIG08 ``CO``, TDS recomputed), and an 856 with a delay notice on a new
  collaboration thread about the shipment.
- The demo distributor (EDIFACT) answers ORDERS with ORDRSP (BGM+231, the
  order number echoed, response code 29 "accepted").
- Both acknowledge each collaboration message as soon as it arrives, and
  answer a document request on its thread with the document attached (a
  one-page PDF named after the document type and the reference; once per
  thread and document), unless
  the case reference contains ``NOREPLY``: such a partner stays silent,
  neither acknowledging nor answering.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from fpdf import FPDF

from connectors.tradinggrid import edi
from connectors.tradinggrid.edi import Segment, Transaction
from connectors.tradinggrid.emulator import network
from connectors.tradinggrid.emulator.state import DISTRIBUTOR, RETAILER
from connectors.tradinggrid.sandbox.models import TgMessage, TgThread, TgTransaction

DELAY_NOTICE = (
    "Receiving at our distribution center is delayed by one day: shipment "
    "{shipment} will be received on the next business day."
)


def react(record: TgTransaction, interchange: edi.Interchange) -> None:
    """Answer what a scripted partner has just received."""
    if record.receiver_company == RETAILER.id:
        for item in interchange.transactions:
            if item.type == "850":
                _order_acknowledgement(record, item)
            elif item.type == "810":
                _corrected_invoice(record, item)
            elif item.type == "856":
                _delay_notice(record, item)
    elif record.receiver_company == DISTRIBUTOR.id:
        for item in interchange.transactions:
            if item.type == "ORDERS":
                _order_response(record, item)


def _control(record: TgTransaction, what: str) -> str:
    return edi.control_number(f"{what}:{record.transaction_id}")


def _order_acknowledgement(record: TgTransaction, order: Transaction) -> None:
    beg = next((s for s in order.segments if s.tag == "BEG"), Segment("BEG"))
    segments = [Segment("BAK", ["00", "AC", beg.get(3), beg.get(5)])]
    for line in order.segments:
        if line.tag == "PO1":  # each line accepted as ordered
            segments += [line, Segment("ACK", ["IA", line.get(2), line.get(3)])]
    payload = edi.build_x12(
        RETAILER.address,
        record.sender_address,
        _control(record, "855"),
        [Transaction("855", "0001", segments)],
    )
    network.reply(RETAILER.id, record.sender_company, payload, record.transaction_id)


def _amount(value: str) -> Decimal:
    try:
        return Decimal(value or "0")
    except InvalidOperation:
        return Decimal(0)


def _corrected_invoice(record: TgTransaction, invoice: Transaction) -> None:
    # TDS01 is the total in cents (implied two decimals), as X12 writes it.
    expected = sum(
        (
            _amount(s.get(2)) * _amount(s.get(4))
            for s in invoice.segments
            if s.tag == "IT1"
        ),
        Decimal(0),
    )
    cents = int((expected * 100).to_integral_value())
    tds = next((s for s in invoice.segments if s.tag == "TDS"), None)
    if tds is None or _amount(tds.get(1)) == cents:
        return
    segments = []
    for segment in invoice.segments:
        if segment.tag == "TDS":
            segment = Segment("TDS", [str(cents), *segment.elements[1:]])
        elif segment.tag == "BIG":
            elements = (segment.elements + [""] * 8)[:8]
            elements[7] = "CO"  # BIG08: corrected invoice
            segment = Segment("BIG", elements)
        segments.append(segment)
    payload = edi.build_x12(
        RETAILER.address,
        record.sender_address,
        _control(record, "810"),
        [Transaction("810", "0001", segments)],
    )
    network.reply(RETAILER.id, record.sender_company, payload, record.transaction_id)


def _delay_notice(record: TgTransaction, notice: Transaction) -> None:
    bsn = next((s for s in notice.segments if s.tag == "BSN"), Segment("BSN"))
    shipment = bsn.get(2) or record.control_number
    now = timezone.now()
    thread = TgThread.objects.create(
        company_id=RETAILER.id,
        partner_company_id=record.sender_company,
        subject=f"Shipment {shipment}",
        case_reference=f"ASN-{shipment}",
        created=now,
        updated=now,
    )
    TgMessage.objects.create(
        thread=thread,
        author_company_id=RETAILER.id,
        text=DELAY_NOTICE.format(shipment=shipment),
        created=now,
    )


def _order_response(record: TgTransaction, order: Transaction) -> None:
    bgm = next((s for s in order.segments if s.tag == "BGM"), Segment("BGM"))
    number = bgm.get(2)
    segments = [
        Segment("BGM", ["231", number, "29"]),
        Segment("DTM", [f"137:{timezone.now():%Y%m%d}:102"]),
        Segment("RFF", [f"ON:{number}"]),
    ]
    payload = edi.build_edifact(
        DISTRIBUTOR.address,
        record.sender_address,
        _control(record, "ORDRSP"),
        [Transaction("ORDRSP", "1", segments)],
    )
    network.reply(DISTRIBUTOR.id, record.sender_company, payload, record.transaction_id)


def answer_request(message: TgMessage) -> None:
    """A demo partner sends what it was asked for on the same thread."""
    thread = message.thread
    asked = message.requested_doc_type
    if not asked or message.author_company_id != thread.company_id:
        return
    partner = thread.partner_company_id
    reference = thread.case_reference.removeprefix(f"REQ-{asked}-")
    if partner not in (RETAILER.id, DISTRIBUTOR.id) or "NOREPLY" in reference:
        return
    name = f"{asked}-{reference}.pdf"
    answered = TgMessage.objects.filter(thread=thread, author_company_id=partner)
    if any(a["fileName"] == name for m in answered for a in m.attachments):
        return  # asked again: it was sent already
    text = f"{asked} for {reference}, from {partner}"
    TgMessage.objects.create(
        thread=thread,
        author_company_id=partner,
        text=f"Here is the {asked} for {reference}.",
        attachments=[
            {
                "fileName": name,
                "mediaType": "application/pdf",
                "size": len(pdf := one_page_pdf(text)),
                "content": base64.b64encode(pdf).decode(),
            }
        ],
        created=timezone.now(),
        acknowledged=timezone.now(),
    )


def one_page_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (fixed date: the same text gives the
    same bytes)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def acknowledge_message(message: TgMessage) -> None:
    """A demo partner reads every message at once."""
    if message.author_company_id != message.thread.company_id:
        partner = message.thread.company_id
    else:
        partner = message.thread.partner_company_id
    silent = "NOREPLY" in message.thread.case_reference
    if partner in (RETAILER.id, DISTRIBUTOR.id) and not silent:
        TgMessage.objects.filter(pk=message.pk).update(acknowledged=timezone.now())
