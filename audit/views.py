"""Compliance pages: search, event detail with proof, timeline, CSV export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render

from audit import canonical, search, services
from audit.export import csv_response, evidence_response
from audit.models import AuditEvent


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def event_list(request: HttpRequest) -> HttpResponse:
    form = search.AuditSearchForm(request.GET or None)
    filters = form.active_filters()
    result = search.page(
        filters,
        before=_int(request.GET.get("before")),
        after=_int(request.GET.get("after")),
    )
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    context = {
        "form": form,
        "page": result,
        "filters": filters,
        "query": query.urlencode(),
        "verification": services.last_verification(),
        "can_export": request.user.has_perm("audit.export_auditevent"),
    }
    template = (
        "audit/event_list.html#results" if request.htmx else "audit/event_list.html"
    )
    return render(request, template, context)


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def event_detail(request: HttpRequest, sequence: int) -> HttpResponse:
    try:
        event = AuditEvent.objects.get(sequence=sequence)
    except AuditEvent.DoesNotExist:
        raise Http404("No audit event with that number.") from None
    previous = AuditEvent.objects.filter(sequence=sequence - 1).first()
    fields = {name: getattr(event, name) for name in canonical.HASHED_FIELDS}
    recomputed = canonical.chain_hash(event.prev_hash, fields)
    proof = {
        "recomputed": recomputed,
        "hash_ok": recomputed == event.hash,
        "link_ok": (previous.hash if previous else canonical.GENESIS_HASH)
        == event.prev_hash,
        "canonical": canonical.canonical_bytes(fields).decode(),
    }
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "previous": previous,
            "next": AuditEvent.objects.filter(sequence=sequence + 1).first(),
            "proof": proof,
        },
    )


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def timeline(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("object", "").strip()
    events = list(
        AuditEvent.objects.filter(business_object=key).order_by("sequence")[:500]
        if key
        else []
    )
    return render(
        request, "audit/timeline.html", {"key": key, "events": events, "limit": 500}
    )


@login_required
@permission_required("audit.export_auditevent", raise_exception=True)
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    return csv_response(request.user, _filters(request))


@login_required
@permission_required("audit.export_auditevent", raise_exception=True)
def export_evidence(request: HttpRequest) -> FileResponse:
    """A zip with the events, a manifest of hashes and the signed chain head."""
    return evidence_response(request.user, _filters(request))


def _filters(request: HttpRequest) -> dict[str, object]:
    return search.AuditSearchForm(request.GET or None).active_filters()
