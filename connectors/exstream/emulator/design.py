"""The design and asset service (DAS): communications and their workflow.

- ``GET design/api/v1/resources/<domain>`` [V path, from OpenText's DAS
  SDK]: ``filter`` is ``key:value;key:value`` with ``types`` (only
  ``exstrapplication`` is emulated) and ``states`` (DRAFT, REVIEW,
  APPROVED, REJECTED); paging with ``count`` and ``offset`` (from 0). The
  page envelope ``{"data", "count", "offset", "total"}`` and the resource's
  extra fields (``requiredFields``, ``contentBlocks``, ``queues``,
  ``serviceName``) are [I].
- ``GET design/api/v1/resources/<domain>/<id>`` [V path]: one resource.
- ``PUT design/api/v1/resources/<domain>/<id>/state`` [V path, body [I]]:
  ``{"state": "APPROVED"}`` moves the workflow along DRAFT -> REVIEW ->
  APPROVED | REJECTED, REJECTED -> DRAFT, APPROVED -> DRAFT.
- ``PUT design/api/v1/resources/<domain>/<id>/contentblocks/<name>`` [I]:
  ``{"content": "...", "submitForReview": false}`` changes a governed
  content block.

The governance rule of the sandbox: a content change makes a new version
that is not approved, so the communication goes back to DRAFT (to REVIEW
when ``submitForReview`` is true) and stops generating until someone
approves it again. Sending the content the block already has changes
nothing (so a repeated update is harmless). A placeholder must name a
field of the communication.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from connectors.exstream.emulator import render
from connectors.exstream.emulator.responses import ServerError, api, json_body
from connectors.exstream.sandbox.models import (
    CommunicationState,
    ExstreamCommunication,
)

TYPE = "exstrapplication"
MAX_COUNT = 200
TRANSITIONS = {
    CommunicationState.DRAFT: {CommunicationState.REVIEW},
    CommunicationState.REVIEW: {
        CommunicationState.APPROVED,
        CommunicationState.REJECTED,
        CommunicationState.DRAFT,
    },
    CommunicationState.REJECTED: {CommunicationState.DRAFT},
    CommunicationState.APPROVED: {CommunicationState.DRAFT},
}


def resource(found: ExstreamCommunication) -> dict[str, Any]:
    return {
        "id": str(found.id),
        "name": found.name,
        "description": found.description,
        "type": TYPE,
        "state": found.state,
        "version": found.version,
        "lastModified": found.modified.isoformat(),
        "serviceName": found.service_name,
        "requiredFields": list(found.required_fields),
        "optionalFields": list(found.optional_fields),
        "contentBlocks": [
            {"name": name, "content": text}
            for name, text in found.content_blocks.items()
        ],
        "queues": [{"name": queue, "driver": queue} for queue in found.queues],
    }


def _filter(text: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in text.split(";"):
        key, _, value = part.partition(":")
        if key.strip():
            parsed[key.strip()] = [v.strip() for v in value.split(",") if v.strip()]
    return parsed


def _number(value: str | None, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise ServerError(400, f"{name} must be a whole number.") from None
    if number < 0:
        raise ServerError(400, f"{name} must not be negative.")
    return number


@api("GET")
def resources(request: HttpRequest, domain: str) -> HttpResponse:
    """One page of communications, ordered by name."""
    wanted = _filter(request.GET.get("filter", ""))
    count = min(_number(request.GET.get("count"), "count", 20), MAX_COUNT)
    offset = _number(request.GET.get("offset"), "offset", 0)
    found = ExstreamCommunication.objects.order_by("name", "id")
    types = wanted.get("types")
    if types and TYPE not in types:
        found = found.none()
    states = [s.upper() for s in wanted.get("states", [])]
    unknown = set(states) - set(CommunicationState.values)
    if unknown:
        raise ServerError(400, f"Unknown state {sorted(unknown)[0]}.")
    if states:
        found = found.filter(state__in=states)
    if wanted.get("name"):
        found = found.filter(name__in=wanted["name"])
    total = found.count()
    page = list(found[offset : offset + count]) if count else []
    return JsonResponse(
        {
            "data": [resource(item) for item in page],
            "count": len(page),
            "offset": offset,
            "total": total,
        }
    )


def _communication(resource_id: str) -> ExstreamCommunication:
    try:
        found = ExstreamCommunication.objects.filter(id=uuid.UUID(resource_id)).first()
    except ValueError:
        found = None
    if found is None:
        raise ServerError(404, f"Resource {resource_id} not found.")
    return found


@api("GET")
def resource_detail(
    request: HttpRequest, domain: str, resource_id: str
) -> HttpResponse:
    return JsonResponse({"data": resource(_communication(resource_id))})


@api("PUT")
def resource_state(request: HttpRequest, domain: str, resource_id: str) -> HttpResponse:
    """Move the communication along its workflow."""
    found = _communication(resource_id)
    target = str(json_body(request).get("state") or request.GET.get("state") or "")
    target = target.upper()
    if target not in CommunicationState.values:
        raise ServerError(400, "state must be DRAFT, REVIEW, APPROVED or REJECTED.")
    if target != found.state:
        if target not in TRANSITIONS[CommunicationState(found.state)]:
            raise ServerError(
                409, f"A communication in {found.state} cannot move to {target}."
            )
        found.state = target
        found.modified = timezone.now()
        found.save(update_fields=["state", "modified"])
    return JsonResponse({"data": resource(found)})


@api("PUT")
def content_block(
    request: HttpRequest, domain: str, resource_id: str, name: str
) -> HttpResponse:
    """Change one governed content block (see the module's rule)."""
    found = _communication(resource_id)
    if name not in found.content_blocks:
        raise ServerError(
            404, f"The communication “{found.name}” has no content block {name}."
        )
    values = json_body(request)
    content = values.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ServerError(400, "content must be a non-empty text.")
    fields = {*found.required_fields, *found.optional_fields}
    unknown = sorted(render.placeholders(content) - fields)
    if unknown:
        raise ServerError(
            400,
            f"The placeholder {{{unknown[0]}}} names no field of the communication.",
        )
    if content != found.content_blocks[name]:
        found.content_blocks = {**found.content_blocks, name: content}
        found.version += 1
        found.state = (
            CommunicationState.REVIEW
            if values.get("submitForReview") is True
            else CommunicationState.DRAFT
        )
        found.modified = timezone.now()
        found.save()
    return JsonResponse({"data": resource(found)})
