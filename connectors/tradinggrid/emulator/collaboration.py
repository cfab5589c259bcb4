"""Collaboration threads between trading partners, one per case [I].

No public REST API was found for Trading Grid's collaboration features;
these shapes are the sandbox's own and kept permissive:

- ``GET collaboration/threads[?caseReference=&status=]``: the caller's
  threads (opened by it or by a partner with it);
- ``POST collaboration/threads`` ``{"partnerAddress", "subject",
  "caseReference"?}`` -> 201; an open thread with the same partner and
  case reference is returned (200) instead of a second one;
- ``GET|PATCH collaboration/threads/{id}``: with its messages; PATCH
  ``{"status": "open"|"closed"}``;
- ``POST collaboration/threads/{id}/messages`` ``{"text",
  "requestedDocType"?, "attachments"?: [{"fileName", "mediaType",
  "content" (base64)}], "clientReference"?}`` -> 201, or 200 with the
  first message when ``clientReference`` was seen on this thread;
- ``GET collaboration/threads/{id}/messages/{messageId}/attachments/{n}``:
  the bytes of a message's n-th attachment (from 0), with its media type.

The demo partners answer a document request (``requestedDocType``) at once
with a message carrying the document (see ``partners.answer_request``).
"""

from __future__ import annotations

import base64
import binascii

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from connectors.tradinggrid.emulator import partners
from connectors.tradinggrid.emulator.mailbox import iso
from connectors.tradinggrid.emulator.responses import ApiError, grid, json_body
from connectors.tradinggrid.emulator.state import (
    COMPANIES,
    PARTNERS,
    Company,
    company_by_address,
)
from connectors.tradinggrid.sandbox.models import TgMessage, TgThread

MAX_ATTACHMENT_BYTES = 5 << 20


def _message_json(message: TgMessage) -> dict[str, object]:
    author = COMPANIES.get(message.author_company_id)
    return {
        "messageId": str(message.pk),
        "author": author.address if author else message.author_company_id,
        "text": message.text,
        "requestedDocType": message.requested_doc_type,
        "attachments": [
            {"index": n, **{k: a[k] for k in ("fileName", "mediaType", "size")}}
            for n, a in enumerate(message.attachments)
        ],
        "clientReference": message.client_reference,
        "createdAt": iso(message.created),
        "partnerAcknowledged": message.acknowledged is not None,
        "acknowledgedAt": iso(message.acknowledged) if message.acknowledged else None,
    }


def _thread_json(
    thread: TgThread, viewer: Company, messages: bool
) -> dict[str, object]:
    other = (
        thread.partner_company_id
        if thread.company_id == viewer.id
        else thread.company_id
    )
    partner = COMPANIES[other]
    data: dict[str, object] = {
        "threadId": str(thread.pk),
        "subject": thread.subject,
        "caseReference": thread.case_reference,
        "status": thread.status,
        "openedBy": COMPANIES[thread.company_id].address,
        "partnerAddress": partner.address,
        "partnerCompanyName": partner.name,
        "createdAt": iso(thread.created),
        "updatedAt": iso(thread.updated),
    }
    if messages:
        data["messages"] = [
            _message_json(m) for m in thread.tgmessage_set.order_by("id")
        ]
    return data


def _visible(company: Company) -> Q:
    return Q(company_id=company.id) | Q(partner_company_id=company.id)


@grid("GET", "POST")
def threads(request: HttpRequest, company: Company) -> HttpResponse:
    if request.method == "GET":
        found = TgThread.objects.filter(_visible(company))
        if reference := request.GET.get("caseReference"):
            found = found.filter(case_reference=reference)
        if status := request.GET.get("status"):
            found = found.filter(status=status)
        items = [_thread_json(t, company, False) for t in found.order_by("id")]
        return JsonResponse({"threads": items, "total": len(items)})
    body = json_body(request)
    partner = company_by_address(str(body.get("partnerAddress") or ""))
    if partner is None or partner.id not in PARTNERS[company.id]:
        raise ApiError(
            404,
            f"No trading partner has the address {body.get('partnerAddress')}.",
            "PARTNER_NOT_FOUND",
        )
    subject = str(body.get("subject") or "").strip()
    if not subject:
        raise ApiError(400, "subject is required.", "BAD_REQUEST")
    reference = str(body.get("caseReference") or "")[:100]
    if reference:
        existing = (
            TgThread.objects.filter(_visible(company), case_reference=reference)
            .filter(Q(company_id=partner.id) | Q(partner_company_id=partner.id))
            .first()
        )
        if existing is not None:
            return JsonResponse(_thread_json(existing, company, True))
    now = timezone.now()
    thread = TgThread.objects.create(
        company_id=company.id,
        partner_company_id=partner.id,
        subject=subject[:200],
        case_reference=reference,
        created=now,
        updated=now,
    )
    return JsonResponse(_thread_json(thread, company, True), status=201)


def _thread(company: Company, thread_id: str) -> TgThread:
    found = (
        TgThread.objects.filter(_visible(company), pk=thread_id).first()
        if thread_id.isdigit()
        else None
    )
    if found is None:
        raise ApiError(404, f"No collaboration thread {thread_id}.", "NOT_FOUND")
    return found


@grid("GET", "PATCH")
def thread(request: HttpRequest, thread_id: str, company: Company) -> HttpResponse:
    found = _thread(company, thread_id)
    if request.method == "PATCH":
        status = json_body(request).get("status")
        if status not in TgThread.Status.values:
            raise ApiError(400, "status must be open or closed.", "BAD_REQUEST")
        TgThread.objects.filter(pk=found.pk).update(
            status=status, updated=timezone.now()
        )
        found.refresh_from_db()
    return JsonResponse(_thread_json(found, company, True))


def _attachments(values: object) -> list[dict[str, object]]:
    if values in (None, ""):
        return []
    if not isinstance(values, list):
        raise ApiError(400, "attachments must be a list.", "BAD_REQUEST")
    kept = []
    for item in values:
        if not isinstance(item, dict) or not item.get("fileName"):
            raise ApiError(400, "Each attachment needs a fileName.", "BAD_REQUEST")
        try:
            data = base64.b64decode(str(item.get("content") or ""), validate=True)
        except binascii.Error:
            raise ApiError(
                400, f"The content of {item['fileName']} is not base64.", "BAD_REQUEST"
            ) from None
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise ApiError(413, f"{item['fileName']} is larger than 5 MB.", "TOO_LARGE")
        kept.append(
            {
                "fileName": str(item["fileName"]),
                "mediaType": str(item.get("mediaType") or "application/octet-stream"),
                "size": len(data),
                "content": base64.b64encode(data).decode(),
            }
        )
    return kept


@grid("POST")
def messages(request: HttpRequest, thread_id: str, company: Company) -> HttpResponse:
    found = _thread(company, thread_id)
    body = json_body(request)
    text = str(body.get("text") or "").strip()
    if not text:
        raise ApiError(400, "text is required.", "BAD_REQUEST")
    reference = str(body.get("clientReference") or "")[:100]
    if reference:
        earlier = TgMessage.objects.filter(
            thread=found, client_reference=reference
        ).first()
        if earlier is not None:
            return JsonResponse(_message_json(earlier))
    now = timezone.now()
    try:
        with transaction.atomic():
            message = TgMessage.objects.create(
                thread=found,
                author_company_id=company.id,
                text=text,
                requested_doc_type=str(body.get("requestedDocType") or "")[:10],
                attachments=_attachments(body.get("attachments")),
                client_reference=reference,
                created=now,
            )
    except IntegrityError:
        earlier = TgMessage.objects.get(thread=found, client_reference=reference)
        return JsonResponse(_message_json(earlier))
    TgThread.objects.filter(pk=found.pk).update(updated=now)
    partners.acknowledge_message(message)
    partners.answer_request(message)
    message.refresh_from_db()
    return JsonResponse(_message_json(message), status=201)


@grid("GET")
def attachment(
    request: HttpRequest, thread_id: str, message_id: str, index: str, company: Company
) -> HttpResponse:
    found = _thread(company, thread_id)
    message = (
        TgMessage.objects.filter(thread=found, pk=message_id).first()
        if message_id.isdigit()
        else None
    )
    if message is None:
        raise ApiError(404, f"No message {message_id} on this thread.", "NOT_FOUND")
    position = int(index) if index.isdigit() else -1
    if not 0 <= position < len(message.attachments):
        raise ApiError(404, f"The message has no attachment {index}.", "NOT_FOUND")
    item = message.attachments[position]
    answer = HttpResponse(
        base64.b64decode(item["content"]), content_type=item["mediaType"]
    )
    answer["Content-Disposition"] = content_disposition_header(True, item["fileName"])
    return answer
