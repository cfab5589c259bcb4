"""Records Management: RM classifications and holds.

Follows /work/shared/EXTERNAL_APIS.md section 1 "Records Management" and the
requests OpenText's pyxecm sends. RM classifications are nodes of subtype 551
under the seeded classifications root (node 2200). A node under an active
hold cannot be deleted: [A] the delete answers 403 with an error body (the
real wording and status are not public; a refusal that retrying cannot fix).
Assumptions are marked [A].
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.signals import pre_delete
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from connectors.otcs.emulator.nodes import get_node
from connectors.otcs.emulator.responses import (
    ApiError,
    date_param,
    integer,
    otcs,
    params,
    require,
)
from connectors.otcs.emulator.state import iso
from connectors.sandbox.models import (
    OtcsHold,
    OtcsNode,
    OtcsNodeHold,
    OtcsRmClassification,
)

CLASSIFICATION = 551
FIRST_HOLD_ID = 1
DETAIL_FIELDS = ("rsi", "file_status", "essential", "storage", "official")


def _truthy(value: Any) -> bool:
    return str(value).lower() in {"true", "1"}


# -- RM classifications --


def metadata_token(node: OtcsNode) -> str:
    """A token that changes whenever the node's records details change [A]."""
    rows = OtcsRmClassification.objects.filter(node=node).order_by("classification_id")
    state = [
        [r.classification_id, r.official, r.details, iso(r.record_date)] for r in rows
    ]
    text = json.dumps([node.id, state], sort_keys=True)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _classification(class_id: int) -> OtcsNode:
    node = OtcsNode.objects.filter(id=class_id).first()
    if node is None or node.type != CLASSIFICATION:
        # [A] wording for an id that is not an RM classification.
        raise ApiError(400, f"Could not get an RM classification for {class_id}")
    return node


def _check_token(node: OtcsNode, values: dict[str, Any], required: bool) -> None:
    token = values.get("rm_metadataToken")
    if token in (None, ""):
        if required:
            raise ApiError(400, "Argument rm_metadataToken is required.")
        return
    if token != metadata_token(node):
        # [A] a stale token means someone changed the record meanwhile.
        raise ApiError(
            400, "The records details were changed by someone else: reload them."
        )


def _record(row: OtcsRmClassification) -> dict[str, Any]:
    details = row.details or {}
    return {
        "inherited_rmclassification_id": None,
        "default_rmclassification_id": None,
        "rmclassification_id": row.classification_id,
        "name": row.classification.name,
        # [A] the file number is the classification's id.
        "file_number": str(row.classification_id),
        "rsi": details.get("rsi"),
        "record_date": iso(row.record_date),
        "file_status": details.get("file_status", "ACTIVE"),
        "status": details.get("file_status", "ACTIVE"),
        "status_date": iso(row.record_date),
        "essential": details.get("essential"),
        "storage": details.get("storage"),
        "official": row.official,
    }


def _descendants(node: OtcsNode) -> list[int]:
    ids, frontier = [], [node.id]
    while frontier:
        frontier = list(
            OtcsNode.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        )
        ids.extend(frontier)
    return ids


@otcs("GET", "POST", "PUT")
def classifications(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """Read, apply (``class_id``) or update records details of a node."""
    node = get_node(node_id)
    if request.method == "POST":
        values = params(request)
        found = _classification(integer(require(values, "class_id"), "class_id"))
        _check_token(node, values, required=False)
        targets = [node.id]
        if _truthy(values.get("apply_to_sub_items")):
            targets += _descendants(node)
        now = timezone.now()
        with transaction.atomic():
            for target in targets:
                # [A] applying a classification the node has is not an error.
                OtcsRmClassification.objects.get_or_create(
                    node_id=target,
                    classification=found,
                    defaults={"record_date": now},
                )
        return JsonResponse({})
    if request.method == "PUT":
        values = params(request)
        _check_token(node, values, required=True)
        rows = list(OtcsRmClassification.objects.filter(node=node))
        if not rows:
            raise ApiError(400, f"Node {node.id} has no RM classification.")
        for row in rows:
            for field in DETAIL_FIELDS:
                if field not in values:
                    continue
                if field == "official":
                    row.official = _truthy(values[field])
                else:
                    row.details = {**row.details, field: values[field]}
            row.save()
        return JsonResponse({})
    rows = OtcsRmClassification.objects.filter(node=node).select_related(
        "classification"
    )
    return JsonResponse(
        {
            "canRMClassify": True,
            "canRemoveClass": True,
            "classVolumeID": 2200,
            "data": [_record(row) for row in rows.order_by("classification_id")],
            "rm_metadataToken": metadata_token(node),
        }
    )


@otcs("DELETE")
def classification(
    request: HttpRequest, node_id: int, class_id: int, user_id: int
) -> HttpResponse:
    """``DELETE api/v1/nodes/{id}/rmclassifications/{class_id}``."""
    node = get_node(node_id)
    deleted, _ = OtcsRmClassification.objects.filter(
        node=node, classification_id=class_id
    ).delete()
    if not deleted:
        # [A] wording for a classification the node does not have.
        raise ApiError(
            400, f"Node {node.id} does not have RM classification {class_id}."
        )
    return JsonResponse({})


# -- Holds --


def hold_v2(hold: OtcsHold) -> dict[str, Any]:
    """A hold in the shape of ``api/v2/hold`` and ``api/v2/holds`` (pyxecm)."""
    return {
        "HoldID": hold.id,
        "HoldName": hold.name,
        "ActiveHold": 1 if hold.active else 0,
        "OBJECT": None,
        "ApplyPatron": "Records Management System User",
        "DateApplied": iso(hold.date_applied),
        "HoldComment": hold.comment,
        "HoldType": hold.type,
        "DateToRemove": iso(hold.date_to_remove),
        "DateRemoved": None,
        "RemovalPatron": None,
        "RemovalComment": None,
        "EditDate": None,
        "EditPatron": None,
        "AlternateHoldID": hold.alternate_id or None,
        "ParentID": None,
    }


def _create_hold(values: dict[str, Any]) -> OtcsHold:
    name = str(require(values, "name"))
    hold_type = str(require(values, "type"))
    # [A] pyxecm always sends date_applied; without it the hold starts now.
    applied = date_param(values.get("date_applied"), "date_applied") or timezone.now()
    top = OtcsHold.objects.aggregate(top=Max("id"))["top"]
    try:
        with transaction.atomic():
            return OtcsHold.objects.create(
                id=max(FIRST_HOLD_ID, (top or 0) + 1),
                name=name,
                type=hold_type,
                comment=str(values.get("comment") or ""),
                alternate_id=str(values.get("alternate_id") or ""),
                date_applied=applied,
                date_to_remove=date_param(
                    values.get("date_to_remove"), "date_to_remove"
                ),
            )
    except IntegrityError:
        # [A] hold names are unique; the wording follows duplicate node names.
        raise ApiError(500, f"A hold with the name '{name}' already exists.") from None


@otcs("GET", "POST")
def holds(request: HttpRequest, user_id: int) -> HttpResponse:
    """``GET api/v1/holds`` (a JSON array) or create one (``POST``)."""
    if request.method == "POST":
        hold = _create_hold(params(request))
        return JsonResponse({"holdID": hold.id})
    answer = [
        {"HoldID": h.id, "HoldName": h.name, "ActiveHold": 1 if h.active else 0}
        for h in OtcsHold.objects.order_by("id")
    ]
    return JsonResponse(answer, safe=False)


def _hold(hold_id: int) -> OtcsHold:
    hold = OtcsHold.objects.filter(id=hold_id).first()
    if hold is None:
        # [A] wording and status of an unknown hold.
        raise ApiError(400, f"Could not get a hold for {hold_id}")
    return hold


@otcs("DELETE")
def hold(request: HttpRequest, hold_id: int, user_id: int) -> HttpResponse:
    """``DELETE api/v1/holds/{id}``; [A] it is lifted from its items too."""
    _hold(hold_id).delete()
    return JsonResponse({})


@otcs("GET")
def holds_v2(request: HttpRequest, user_id: int) -> HttpResponse:
    """``GET api/v2/holds``: every hold (pyxecm)."""
    rows = [hold_v2(h) for h in OtcsHold.objects.order_by("id")]
    return JsonResponse({"results": {"data": {"holds": rows}}})


@otcs("GET")
def hold_by_name(request: HttpRequest, user_id: int) -> HttpResponse:
    """``GET api/v2/hold?holdname=X`` (pyxecm)."""
    name = request.GET.get("holdname") or ""
    if not name:
        raise ApiError(400, "Argument holdname is required.")
    found = OtcsHold.objects.filter(name=name).first()
    if found is None:
        # [A] an unknown hold name answers 404 with an error body.
        raise ApiError(404, f"Could not get a hold named '{name}'")
    return JsonResponse({"results": {"data": {"hold": hold_v2(found)}}})


def _applied(row: OtcsNodeHold) -> dict[str, Any]:
    return {
        "hold_id": row.hold_id,
        "hold_name": row.hold.name,
        "hold_type": row.hold.type,
        "active": row.hold.active,
        "date_applied": iso(row.date_applied),
        "applied_by": row.applied_by,
        "removable": True,
    }


@otcs("GET", "POST")
def node_holds(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """Holds on a node (``GET``) or apply one (``POST`` ``hold_id``)."""
    node = get_node(node_id)
    if request.method == "POST":
        values = params(request)
        found = _hold(integer(require(values, "hold_id"), "hold_id"))
        # [A] applying a hold the node already has is not an error.
        OtcsNodeHold.objects.get_or_create(
            node=node,
            hold=found,
            defaults={"date_applied": timezone.now(), "applied_by": user_id},
        )
        return JsonResponse({})
    rows = OtcsNodeHold.objects.filter(node=node).select_related("hold")
    return JsonResponse({"data": [_applied(row) for row in rows.order_by("hold_id")]})


@otcs("DELETE")
def node_hold(
    request: HttpRequest, node_id: int, hold_id: int, user_id: int
) -> HttpResponse:
    """``DELETE api/v1/nodes/{id}/holds/{hold_id}``."""
    node = get_node(node_id)
    deleted, _ = OtcsNodeHold.objects.filter(node=node, hold_id=hold_id).delete()
    if not deleted:
        # [A] wording for a hold the node is not under.
        raise ApiError(400, f"Hold {hold_id} is not applied to node {node.id}.")
    return JsonResponse({})


def _refuse_held(sender: type, instance: OtcsNode, **kwargs: Any) -> None:
    """A node (or a node inside a folder being deleted) under hold stays."""
    row = (
        OtcsNodeHold.objects.filter(node_id=instance.id, hold__active=True)
        .select_related("hold")
        .first()
    )
    if row is not None:
        raise ApiError(
            403,
            f"Node {instance.id} is under hold '{row.hold.name}' and cannot be "
            "deleted.",
        )


pre_delete.connect(_refuse_held, sender=OtcsNode, dispatch_uid="otcs-hold-delete")
