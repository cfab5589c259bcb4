"""Records policy and legal holds on a workspace's documents, applied through
the workspace type's Content Server connection.

- ``govern``: a newly filed document gets its document type's RM
  classification (its retention schedule) and every hold active on the
  workspace. Called after each filing, outside any transaction.
- ``apply_hold``: a legal hold on every document of the workspace, and on
  those filed while it lasts. The connector reads before it writes, so
  applying again (or retrying after a failure half-way) changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, EventType, record
from connectors.base import ActionContext
from connectors.errors import PermanentError
from workspaces.models import (
    DocumentRequirement,
    Workspace,
    WorkspaceDocument,
    WorkspaceHold,
)


def govern(
    workspace: Workspace, requirement: DocumentRequirement, node_id: int
) -> None:
    """Classify ``node_id`` and put it under the workspace's active holds."""
    holds = list(
        workspace.holds.filter(released_at__isnull=True).values_list("name", flat=True)
    )
    if not requirement.rm_classification and not holds:
        return
    connector = _connector(workspace)
    if requirement.rm_classification:
        connector.run_action(
            "apply_rm_classification",
            {"node_id": node_id, "class_id": requirement.rm_classification},
            ActionContext(idempotency_key=f"xc-rm-{node_id}"),
        )
    for name in holds:
        _hold_node(connector, node_id, name, "")


def apply_hold(
    workspace: Workspace, name: str, user: Any, comment: str = ""
) -> WorkspaceHold:
    """Put every document of ``workspace`` under the legal hold ``name``
    (created in Content Server if it has none by that name)."""
    name = name.strip()[:200]
    if not name:
        raise PermanentError("Name the hold, e.g. “Litigation 2026-14”.")
    try:
        with transaction.atomic():
            hold, _ = WorkspaceHold.objects.get_or_create(
                workspace=workspace,
                name=name,
                released_at=None,
                defaults={"comment": comment, "applied_by": user},
            )
    except IntegrityError:
        hold = WorkspaceHold.objects.get(
            workspace=workspace, name=name, released_at=None
        )
    connector = _connector(workspace)
    nodes = document_nodes(workspace)
    for node_id in nodes:
        _hold_node(connector, node_id, name, comment)
    WorkspaceHold.objects.filter(pk=hold.pk).update(nodes=len(nodes))
    hold.nodes = len(nodes)
    record(
        EventType.HOLD_APPLIED,
        Actor.user(user),
        summary=f"Legal hold “{name}” on the {len(nodes)} documents of "
        f"“{workspace.name}”"[:500],
        payload={"workspace": workspace.pk, "hold": name, "nodes": nodes},
        system="otcs",
        business_object=workspace.business_key,
        target_ref=str(workspace.ecm_node_id or ""),
    )
    Workspace.objects.filter(pk=workspace.pk).update(updated_at=timezone.now())
    return hold


def release_hold(hold: WorkspaceHold, user: Any, comment: str = "") -> WorkspaceHold:
    """Lift ``hold`` from every document of its workspace in Content Server,
    then end it. Lifting reads first, so a retry after a failure half-way
    lifts what is left; the hold stays active until every node is free."""
    if hold.released_at is not None:
        raise PermanentError(f"The hold “{hold.name}” was already released.")
    workspace = hold.workspace
    connector = _connector(workspace)
    nodes = document_nodes(workspace)
    for node_id in nodes:
        connector.run_action(
            "remove_hold",
            {"node_id": node_id, "hold_name": hold.name},
            ActionContext(idempotency_key=f"xc-unhold-{node_id}-{hold.name}"),
        )
    now = timezone.now()
    released = WorkspaceHold.objects.filter(
        pk=hold.pk, released_at__isnull=True
    ).update(released_at=now)
    if not released:  # released by someone else meanwhile
        hold.refresh_from_db()
        return hold
    hold.released_at = now
    record(
        EventType.HOLD_RELEASED,
        Actor.user(user),
        summary=f"Legal hold “{hold.name}” released from the {len(nodes)} "
        f"documents of “{workspace.name}”"[:500],
        payload={
            "workspace": workspace.pk,
            "hold": hold.name,
            "nodes": nodes,
            "comment": comment,
        },
        system="otcs",
        business_object=workspace.business_key,
        target_ref=str(workspace.ecm_node_id or ""),
    )
    Workspace.objects.filter(pk=workspace.pk).update(updated_at=now)
    return hold


def document_nodes(workspace: Workspace) -> list[int]:
    """The Content Server nodes of every document filed in ``workspace``."""
    return sorted(
        set(
            WorkspaceDocument.objects.filter(workspace=workspace).values_list(
                "ecm_node_id", flat=True
            )
        )
    )


def _hold_node(connector: Any, node_id: int, name: str, comment: str) -> None:
    connector.run_action(
        "apply_hold",
        {
            "node_id": node_id,
            "hold_name": name,
            "create_if_missing": True,
            "comment": comment,
        },
        ActionContext(idempotency_key=f"xc-hold-{node_id}-{name}"),
    )


def _connector(workspace: Workspace) -> Any:
    from integrations.engine.connections import connector_for

    return connector_for(workspace.workspace_type.connection_id)[1]
