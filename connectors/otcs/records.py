"""Records management actions of the Content Server connector.

The calls are the ones OpenText's pyxecm sends (``/work/shared/EXTERNAL_APIS.md``
section 1, "Records Management"). Every action reads first and changes only
what is missing, so a retry after a crash does the same thing once:

- a classification the node already has is not applied again;
- a hold is found by name in ``GET v1/holds`` (a JSON array); a missing one
  is created only when asked, and a name clash while creating it (a
  concurrent run) is resolved by reading the list again;
- a hold already on the node is not applied again; removing one that is not
  there reports ``removed`` false.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from connectors.base import ActionContext, action
from connectors.errors import ConnectorError, PermanentError
from connectors.otcs.client import ContentServerClient
from connectors.otcs.schemas import (
    ApplyHoldIn,
    ApplyHoldOut,
    ApplyRmClassificationIn,
    ApplyRmClassificationOut,
    RemoveHoldIn,
    RemoveHoldOut,
)


def _classifications(
    client: ContentServerClient, node_id: int
) -> tuple[list[int], str]:
    payload = client.call(
        "GET", f"v1/nodes/{node_id}/rmclassifications", node_id=node_id
    )
    ids = [int(row["rmclassification_id"]) for row in payload.get("data") or []]
    return ids, str(payload.get("rm_metadataToken") or "")


def apply_classification(
    client: ContentServerClient, data: ApplyRmClassificationIn
) -> ApplyRmClassificationOut:
    """Classify the node unless it already has the classification."""
    ids, token = _classifications(client, data.node_id)
    applied = data.class_id not in ids
    if applied:
        spec: dict[str, Any] = {
            "class_id": data.class_id,
            "apply_to_sub_items": data.apply_to_sub_items,
        }
        if token:
            spec["rm_metadataToken"] = token
        client.call(
            "POST",
            f"v1/nodes/{data.node_id}/rmclassifications",
            node_id=data.node_id,
            data={"body": json.dumps(spec)},
        )
        ids, _ = _classifications(client, data.node_id)
    return ApplyRmClassificationOut(
        node_id=data.node_id,
        class_id=data.class_id,
        applied=applied,
        classifications=ids,
    )


def hold_id(client: ContentServerClient, name: str) -> int | None:
    """The id of the hold called ``name``, or None."""
    payload = client.call("GET", "v1/holds")
    for hold in payload.get("results") or []:
        if str(hold.get("HoldName")) == name:
            return int(hold["HoldID"])
    return None


def _create_hold(client: ContentServerClient, data: ApplyHoldIn) -> int:
    fields = {
        "type": data.hold_type,
        "name": data.hold_name,
        "comment": data.comment,
        "date_applied": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    try:
        return int(client.call("POST", "v1/holds", data=fields)["holdID"])
    except ConnectorError:
        found = hold_id(client, data.hold_name)
        if found is None:
            raise
        return found


def _held(client: ContentServerClient, node_id: int, hold: int) -> bool:
    payload = client.call("GET", f"v1/nodes/{node_id}/holds", node_id=node_id)
    return any(int(row["hold_id"]) == hold for row in payload.get("data") or [])


def put_on_hold(client: ContentServerClient, data: ApplyHoldIn) -> ApplyHoldOut:
    """Put the node under the named hold (creating the hold when asked)."""
    client.call("GET", f"v1/nodes/{data.node_id}/holds", node_id=data.node_id)
    found = hold_id(client, data.hold_name)
    created = False
    if found is None:
        if not data.create_if_missing:
            raise PermanentError(
                f"Content Server has no hold “{data.hold_name}”: create it, or "
                "turn on “Create the hold if missing”."
            )
        found, created = _create_hold(client, data), True
    applied = not _held(client, data.node_id, found)
    if applied:
        client.call(
            "POST",
            f"v1/nodes/{data.node_id}/holds",
            node_id=data.node_id,
            data={"body": json.dumps({"hold_id": found})},
        )
    return ApplyHoldOut(
        node_id=data.node_id,
        hold_id=found,
        hold_name=data.hold_name,
        hold_created=created,
        applied=applied,
    )


def lift_hold(client: ContentServerClient, data: RemoveHoldIn) -> RemoveHoldOut:
    """Lift the named hold from the node, if it is on it."""
    found = hold_id(client, data.hold_name)
    removed = found is not None and _held(client, data.node_id, found)
    if found is None:
        # Still report an unknown node as such.
        client.call("GET", f"v1/nodes/{data.node_id}/holds", node_id=data.node_id)
    if removed:
        client.call(
            "DELETE", f"v1/nodes/{data.node_id}/holds/{found}", node_id=data.node_id
        )
    return RemoveHoldOut(
        node_id=data.node_id, hold_name=data.hold_name, removed=removed
    )


class RecordsActions:
    """The records management actions, mixed into the Content Server connector."""

    client: ContentServerClient

    @action(
        "apply_rm_classification",
        "Apply an RM classification",
        description="Classify a node (and optionally its contents) for "
        "records management.",
        input=ApplyRmClassificationIn,
        output=ApplyRmClassificationOut,
    )
    def apply_rm_classification(
        self, data: ApplyRmClassificationIn, context: ActionContext
    ) -> ApplyRmClassificationOut:
        return apply_classification(self.client, data)

    @action(
        "apply_hold",
        "Put a node under hold",
        description="Apply a hold, found by name, to a node; a held node "
        "cannot be deleted.",
        input=ApplyHoldIn,
        output=ApplyHoldOut,
    )
    def apply_hold(self, data: ApplyHoldIn, context: ActionContext) -> ApplyHoldOut:
        return put_on_hold(self.client, data)

    @action(
        "remove_hold",
        "Lift a hold from a node",
        description="Remove a hold, found by name, from a node.",
        input=RemoveHoldIn,
        output=RemoveHoldOut,
    )
    def remove_hold(self, data: RemoveHoldIn, context: ActionContext) -> RemoveHoldOut:
        return lift_hold(self.client, data)
