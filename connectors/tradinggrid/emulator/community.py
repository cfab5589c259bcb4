"""Tokens, Community Management (company, partner directory) and the
sandbox's own controls (faults, token expiry).

``POST _sandbox/faults`` (emulator only): ``{"status": 429, "count": 1,
"seconds": 2}`` makes the next call answer 429 with ``Retry-After: 2``;
``DELETE`` clears the queue. ``POST _sandbox/tokens/expire`` expires every
token at once, so a client's renewal can be tested.
``POST _sandbox/partner-documents`` ``{"from": "ZZ:DEMORETAILER",
"content": "ST*214*0001~..."}`` makes a demo partner send bare X12 or
EDIFACT segments to the sandbox supplier's mailbox, in an envelope of its
own (a carrier's shipment status, say), as the partner's system would.
"""

from __future__ import annotations

import base64
import binascii

from django.http import HttpRequest, HttpResponse, JsonResponse

from connectors.tradinggrid.emulator import state
from connectors.tradinggrid.emulator.responses import ApiError, error, grid, json_body
from connectors.tradinggrid.sandbox.models import TgFault


def _basic(request: HttpRequest) -> tuple[str, str]:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        pair = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    key, _, secret = pair.partition(":")
    return key, secret


@grid("POST", signed_in=False)
def tokens(request: HttpRequest) -> HttpResponse:
    """``?grant_type=client_credentials`` with HTTP Basic consumer key:secret."""
    grant = request.GET.get("grant_type") or request.POST.get("grant_type")
    if grant != "client_credentials":
        return JsonResponse(
            {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be client_credentials.",
            },
            status=400,
        )
    company = state.company_by_key(*_basic(request))
    if company is None:
        return JsonResponse(
            {
                "error": "invalid_client",
                "error_description": "Unknown consumer key or wrong secret.",
            },
            status=401,
        )
    token = state.issue_token(company)
    # expires_in and token_type are [I]: the sources show only access_token.
    return JsonResponse(
        {
            "access_token": token.value,
            "token_type": "Bearer",
            "expires_in": state.token_seconds(),
        }
    )


def _company_json(company: state.Company) -> dict[str, object]:
    # Field names [I]: Active Community's company resource is not public.
    return {
        "companyId": company.id,
        "companyName": company.name,
        "ediAddresses": [company.address],
        "city": company.city,
        "status": "Active",
    }


def _own(company: state.Company, company_id: str) -> None:
    if company_id != company.id:
        raise ApiError(
            403 if company_id in state.COMPANIES else 404,
            f"Company {company_id} is not accessible with this token.",
            "COMPANY_NOT_ACCESSIBLE",
        )


@grid("GET")
def company(
    request: HttpRequest, company_id: str, company: state.Company
) -> HttpResponse:
    _own(company, company_id)
    return JsonResponse(_company_json(company))


@grid("GET")
def partner_directory(
    request: HttpRequest, company_id: str, company: state.Company
) -> HttpResponse:
    """Trading partners, filtered by ``partnerCompanyName`` (contains)."""
    _own(company, company_id)
    wanted = request.GET.get("partnerCompanyName", "").strip().lower()
    partners = [
        {
            "partnerCompanyId": partner.id,
            "partnerCompanyName": partner.name,
            "ediAddresses": [partner.address],
            "standard": partner.standard,
            "relationshipStatus": "Active",
        }
        for partner in (state.COMPANIES[p] for p in state.PARTNERS[company.id])
        if wanted in partner.name.lower()
    ]
    return JsonResponse({"partners": partners, "total": len(partners)})


@grid("GET", "POST", "DELETE", signed_in=False, faults=False)
def faults(request: HttpRequest) -> HttpResponse:
    """Sandbox only: queue, list or clear injected failures."""
    if request.method == "POST":
        values = json_body(request)
        try:
            status = int(values.get("status", 503))
            count = int(values.get("count") or 1)
            seconds = float(values.get("seconds", 1))
        except (TypeError, ValueError):
            raise ApiError(
                400, "status, count and seconds must be numbers.", "BAD_REQUEST"
            ) from None
        if status not in {429, 500, 502, 503, 504} or not 1 <= count <= 100:
            return error(
                400,
                "status must be 429, 500, 502, 503 or 504; count 1..100.",
                "BAD_REQUEST",
            )
        TgFault.objects.create(
            status=status,
            remaining=count,
            seconds=seconds,
            message=str(values.get("message") or ""),
        )
    elif request.method == "DELETE":
        TgFault.objects.all().delete()
    queued = [
        {"status": f.status, "remaining": f.remaining}
        for f in TgFault.objects.order_by("id")
    ]
    return JsonResponse({"faults": queued})


@grid("POST", signed_in=False, faults=False)
def expire_tokens(request: HttpRequest) -> HttpResponse:
    """Sandbox only: every token issued so far stops working."""
    return JsonResponse({"expired": state.expire_tokens()})


@grid("POST", signed_in=False, faults=False)
def partner_document(request: HttpRequest) -> HttpResponse:
    """Sandbox only: a demo partner sends a document to the supplier."""
    from connectors.tradinggrid import edi
    from connectors.tradinggrid.emulator import network

    values = json_body(request)
    sender = state.company_by_address(str(values.get("from") or ""))
    if sender is None or sender.id == state.SUPPLIER.id:
        raise ApiError(
            400, "from must be the address of a demo partner.", "BAD_REQUEST"
        )
    content = str(values.get("content") or "").strip()
    standard = {"ST*": edi.X12, "UNH": edi.EDIFACT}.get(content[:3])
    if standard is None:
        raise ApiError(
            400, "content must be bare X12 (ST...) or EDIFACT (UNH...).", "BAD_REQUEST"
        )
    try:
        transactions = edi.segments_from_text(content, standard)
    except edi.EdiError as problem:
        raise ApiError(400, str(problem), "BAD_REQUEST") from None
    control = edi.control_number(f"sandbox:{sender.id}:{content}")
    build = edi.build_x12 if standard == edi.X12 else edi.build_edifact
    payload = build(sender.address, state.SUPPLIER.address, control, transactions)
    record = network.reply(sender.id, state.SUPPLIER.id, payload, "")
    return JsonResponse({"transactionId": record.transaction_id}, status=201)
