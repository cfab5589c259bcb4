"""The only way in to workspaces: find or create one for a business object,
record what was filed into it, read its checklist.

``find_or_create`` makes one row per (type, business key) whatever the
number of concurrent events (the unique constraint decides; the loser reads
the winner's row), then finds or creates the ECM workspace through the
type's Content Server connection. The connector reads before it writes, so
a retry or a second worker finds the same ECM workspace instead of making
another. Errors are the connector's (``TransientError`` is worth retrying).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import Actor, EventType, record
from connectors.base import ActionContext
from connectors.errors import PermanentError
from workspaces.checklist import Checklist, evaluate
from workspaces.models import (
    DocumentRequirement,
    DocumentStatus,
    Workspace,
    WorkspaceDocument,
    WorkspaceLink,
    WorkspaceType,
)

__all__ = [
    "Filing",
    "checklist",
    "find_or_create",
    "record_filing",
    "requirement_for",
    "workspace_type",
]

ENGINE = Actor.system("flow engine")


@dataclass(frozen=True)
class Filing:
    """A document an upload put into a workspace, as the ledger knows it."""

    node_id: int
    version: int
    name: str
    sha256: str = ""
    size: int | None = None
    valid_until: date | None = None
    transfer_id: int | None = None
    run_id: int | None = None


def workspace_type(key: str) -> WorkspaceType:
    """The type named ``key``; ``PermanentError`` in words if there is none."""
    found = WorkspaceType.objects.select_related("connection").filter(key=key).first()
    if found is None:
        raise PermanentError(
            f"There is no workspace type “{key}”: add it under Workspaces, or "
            "choose another type in the flow."
        )
    return found


def access_url(workspace: Workspace, document_type: str) -> str:
    """Where a business application reads the current approved version of
    the workspace's ``document_type`` (the document access endpoint);
    absolute when ``XCONNECTOR_BASE_URL`` is set."""
    query = urlencode(
        {
            "type": workspace.workspace_type.key,
            "key": workspace.business_key,
            "document": document_type,
        }
    )
    base = (getattr(settings, "XCONNECTOR_BASE_URL", "") or "").rstrip("/")
    return f"{base}{reverse('workspace-document-access')}?{query}"


def requirement_for(wtype: WorkspaceType, document_type: str) -> DocumentRequirement:
    found = wtype.requirements.filter(document_type=document_type).first()
    if found is None:
        known = ", ".join(wtype.requirements.values_list("document_type", flat=True))
        raise PermanentError(
            f"The workspace type “{wtype.name}” has no document type "
            f"“{document_type}” in its checklist (it has: {known or 'none'})."
        )
    return found


def find_or_create(
    wtype: WorkspaceType,
    business_key: str,
    *,
    name: str = "",
    links: Iterable[tuple[str, str, str]] = (),
    actor: Actor = ENGINE,
    run_id: int | None = None,
) -> tuple[Workspace, bool]:
    """The workspace of ``business_key`` with its ECM workspace; (workspace,
    whether this call created the row). ``links`` ((system, object type,
    record id) of the object in other systems) are added to those it has."""
    business_key = business_key.strip()[:300]
    if not business_key:
        raise PermanentError("The business key is empty: a workspace needs one.")
    workspace, created = _row(wtype, business_key, (name or business_key)[:300])
    if workspace.ecm_node_id is None:
        workspace.ecm_node_id = _ecm_workspace(wtype, workspace)
        Workspace.objects.filter(pk=workspace.pk, ecm_node_id__isnull=True).update(
            ecm_node_id=workspace.ecm_node_id, updated_at=timezone.now()
        )
    for system, object_type, object_id in links:
        if object_id:
            WorkspaceLink.objects.get_or_create(
                workspace=workspace,
                system=system[:60],
                object_type=object_type[:100],
                object_id=str(object_id)[:300],
            )
    if created:
        record(
            EventType.WORKSPACE_CREATED,
            actor,
            summary=f"Workspace “{workspace.name}” ({wtype.name}) created",
            payload={"workspace": workspace.pk, "type": wtype.key},
            run_id=run_id,
            business_object=business_key,
            target_ref=str(workspace.ecm_node_id or ""),
        )
    return workspace, created


def record_filing(
    workspace: Workspace, requirement: DocumentRequirement, filing: Filing
) -> WorkspaceDocument:
    """Keep what was filed (once per ECM node and version, so a retried step
    records it once); awaiting approval when the checklist item needs it."""
    valid_until = filing.valid_until
    if valid_until is None and requirement.valid_days:
        valid_until = timezone.localdate() + timedelta(days=requirement.valid_days)
    document, _ = WorkspaceDocument.objects.get_or_create(
        workspace=workspace,
        ecm_node_id=filing.node_id,
        version=filing.version,
        defaults={
            "document_type": requirement.document_type,
            "name": filing.name[:500],
            "sha256": filing.sha256,
            "size": filing.size,
            "status": DocumentStatus.AWAITING_APPROVAL
            if requirement.needs_approval
            else DocumentStatus.APPROVED,
            "valid_until": valid_until,
            "transfer_id": filing.transfer_id,
            "run_id": filing.run_id,
        },
    )
    Workspace.objects.filter(pk=workspace.pk).update(updated_at=timezone.now())
    return document


def checklist(workspace: Workspace, today: date | None = None) -> Checklist:
    """The workspace's checklist as it stands (two queries)."""
    return evaluate(
        workspace.workspace_type.requirements.all(),
        workspace.documents.all(),
        today or timezone.localdate(),
    )


# --- Helpers -----------------------------------------------------------------------


def _row(wtype: WorkspaceType, business_key: str, name: str) -> tuple[Workspace, bool]:
    try:
        with transaction.atomic():
            return Workspace.objects.get_or_create(
                workspace_type=wtype,
                business_key=business_key,
                defaults={"name": name},
            )
    except IntegrityError:
        # Another event about the same object created it first.
        return Workspace.objects.get(
            workspace_type=wtype, business_key=business_key
        ), False


def _ecm_workspace(wtype: WorkspaceType, workspace: Workspace) -> int:
    from integrations.engine.connections import connector_for

    _, connector = connector_for(wtype.connection_id)
    params: dict[str, Any] = {
        "ext_system_id": wtype.ext_system_id,
        "bo_type": wtype.bo_type,
        "bo_id": workspace.business_key,
        "name": workspace.name,
        "workspace_type": wtype.ecm_workspace_type,
    }
    if wtype.ecm_parent_id:
        params["parent_id"] = wtype.ecm_parent_id
    output, _ = connector.run_action(
        "find_or_create_workspace",
        params,
        ActionContext(idempotency_key=f"xc-workspace-{workspace.pk}"),
    )
    return int(output["workspace_id"])
