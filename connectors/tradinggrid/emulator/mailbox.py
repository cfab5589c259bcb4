"""The store-and-forward mailbox REST API [I].

Trading Grid publishes no REST API for sending and receiving documents
(EXTERNAL_APIS.md section 3): these shapes follow the sandbox
recommendation there and are kept permissive.

- ``POST mailboxes/{id}/outbound`` ``{"payload", "receiverAddress",
  "docType", "fileName"?, "controlNumber"? (XML only)}`` -> 201 with the
  transaction; errors as ``network`` describes.
- ``GET mailboxes/{id}/inbound?status=new`` lists documents (``status``:
  new, acknowledged, failed or all; ``limit`` up to 500).
- ``GET mailboxes/{id}/inbound/{documentId}``: one document's metadata;
  ``.../content``: its bytes.
- ``POST mailboxes/{id}/inbound/{documentId}/ack`` ``{"status":
  "acknowledged"|"failed", "reason"?}``: done with it; safe to repeat.

A mailbox id is the owning company's BUID.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from connectors.tradinggrid import edi
from connectors.tradinggrid.emulator import network
from connectors.tradinggrid.emulator.responses import ApiError, grid, json_body
from connectors.tradinggrid.emulator.state import Company
from connectors.tradinggrid.sandbox.models import TgMailboxDocument, TgTransaction

MEDIA_TYPES = {
    edi.X12: "application/edi-x12",
    edi.EDIFACT: "application/edifact",
    edi.XML: "application/xml",
}


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: ``2026-11-23T09:30:00.000Z`` [I]."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _own(company: Company, mailbox: str) -> None:
    if mailbox != company.id:
        raise ApiError(
            403,
            f"Mailbox {mailbox} does not belong to this token.",
            "MAILBOX_FORBIDDEN",
        )


def transaction_json(record: TgTransaction) -> dict[str, object]:
    return {
        "transactionId": record.transaction_id,
        "status": record.status,
        "editype": record.editype,
        "docType": record.doc_type,
        "controlNumber": record.control_number,
        "senderAddress": record.sender_address,
        "receiverAddress": record.receiver_address,
        "arrivalTime": iso(record.arrival_time),
        "correlationId": record.correlation_id,
    }


def _document_json(document: TgMailboxDocument) -> dict[str, object]:
    record = document.transaction
    return {
        "documentId": str(document.pk),
        "transactionId": record.transaction_id,
        "status": document.status,
        "senderAddress": record.sender_address,
        "senderName": record.sender_name,
        "receiverAddress": record.receiver_address,
        "editype": record.editype,
        "docType": record.doc_type,
        "controlNumber": record.control_number,
        "correlationId": record.correlation_id,
        "fileName": record.file_name,
        "size": len(record.payload.encode()),
        "receivedAt": iso(document.created),
    }


@grid("POST")
def outbound(request: HttpRequest, mailbox: str, company: Company) -> HttpResponse:
    _own(company, mailbox)
    body = json_body(request)
    payload = body.get("payload")
    receiver = body.get("receiverAddress")
    if not isinstance(payload, str) or not payload.strip():
        raise ApiError(400, "payload is required: the document as text.", "BAD_REQUEST")
    if not isinstance(receiver, str) or not receiver.strip():
        raise ApiError(
            400, "receiverAddress is required (qualifier:ID).", "BAD_REQUEST"
        )
    record = network.send(
        company,
        network.Outbound(
            payload=payload,
            receiver_address=receiver,
            doc_type=str(body.get("docType") or ""),
            file_name=str(body.get("fileName") or ""),
            control_number=str(body.get("controlNumber") or ""),
        ),
    )
    return JsonResponse(transaction_json(record), status=201)


@grid("GET")
def inbound(request: HttpRequest, mailbox: str, company: Company) -> HttpResponse:
    _own(company, mailbox)
    status = request.GET.get("status", "all")
    documents = TgMailboxDocument.objects.filter(mailbox=mailbox).select_related(
        "transaction"
    )
    if status != "all":
        if status not in TgMailboxDocument.Status.values:
            raise ApiError(
                400, "status must be new, acknowledged, failed or all.", "BAD_REQUEST"
            )
        documents = documents.filter(status=status)
    try:
        limit = max(1, min(500, int(request.GET.get("limit", 100))))
    except ValueError:
        raise ApiError(400, "limit must be a number.", "BAD_REQUEST") from None
    items = [_document_json(d) for d in documents.order_by("id")[:limit]]
    return JsonResponse({"documents": items, "total": len(items)})


def _document(mailbox: str, document_id: str) -> TgMailboxDocument:
    found = (
        TgMailboxDocument.objects.filter(mailbox=mailbox, pk=document_id)
        .select_related("transaction")
        .first()
        if document_id.isdigit()
        else None
    )
    if found is None:
        raise ApiError(
            404, f"Mailbox {mailbox} holds no document {document_id}.", "NOT_FOUND"
        )
    return found


@grid("GET")
def document(
    request: HttpRequest, mailbox: str, document_id: str, company: Company
) -> HttpResponse:
    _own(company, mailbox)
    return JsonResponse(_document_json(_document(mailbox, document_id)))


@grid("GET")
def content(
    request: HttpRequest, mailbox: str, document_id: str, company: Company
) -> HttpResponse:
    _own(company, mailbox)
    record = _document(mailbox, document_id).transaction
    response = HttpResponse(
        record.payload.encode(),
        content_type=f"{MEDIA_TYPES.get(record.editype, 'text/plain')}; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{record.file_name}"'
    return response


@grid("POST")
def ack(
    request: HttpRequest, mailbox: str, document_id: str, company: Company
) -> HttpResponse:
    _own(company, mailbox)
    found = _document(mailbox, document_id)
    body = json_body(request)
    status = str(body.get("status") or TgMailboxDocument.Status.ACKNOWLEDGED)
    if status not in ("acknowledged", "failed"):
        raise ApiError(400, "status must be acknowledged or failed.", "BAD_REQUEST")
    if found.status == TgMailboxDocument.Status.NEW:
        TgMailboxDocument.objects.filter(pk=found.pk, status="new").update(
            status=status,
            reason=str(body.get("reason") or "")[:2000],
            acknowledged=timezone.now(),
        )
        found.refresh_from_db()
    return JsonResponse(_document_json(found))
