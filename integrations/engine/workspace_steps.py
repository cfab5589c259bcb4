"""Workspace steps: find or create a business object's workspace, and file a
document into it as one of its checklist's document types.

``file`` is an upload through the workspace type's Content Server connection
made by ``run_action``, so it has the same transfer ledger (a document is
filed once, whatever is retried or replayed), retries and rate limits as any
action step; the filing is then kept on the workspace (once per ECM node and
version), the checklist is followed up (tasks for what is missing, the
"workspace complete" flows once it is complete) and the step's output says
how complete it is.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from connectors.errors import PermanentError
from integrations.definition import ActionStep, FileStep, SyncStep, WorkspaceStep
from integrations.engine.steps import Done, expression, run_action

if TYPE_CHECKING:
    from integrations.engine.runner import Execution
    from workspaces.models import Workspace, WorkspaceType


def find_or_create_workspace(execution: Execution, step: WorkspaceStep) -> Done:
    from workspaces import services as workspaces
    from workspaces.follow_up import follow_up

    scope = execution.scope()
    wtype = workspaces.workspace_type(step.workspace_type)
    links = [
        (
            link.system,
            link.object_type,
            _text(step, link.object_id, scope),
        )
        for link in step.links
    ]
    workspace, created = _workspace(execution, step, wtype, scope, links)
    checklist = follow_up(workspace)
    return Done(
        input={"business_key": workspace.business_key, "type": wtype.key},
        output={
            "workspace_id": workspace.pk,
            "node_id": workspace.ecm_node_id,
            "name": workspace.name,
            "created": created,
            "checklist": checklist.summary,
            "complete": checklist.complete,
            "documents": checklist.states(),
            "access_urls": {
                r.document_type: workspaces.access_url(workspace, r.document_type)
                for r in wtype.requirements.all()
            },
        },
    )


def file_document(execution: Execution, step: FileStep) -> Done:
    from workspaces import services as workspaces
    from workspaces.follow_up import follow_up
    from workspaces.records import govern

    scope = execution.scope()
    wtype = workspaces.workspace_type(step.workspace_type)
    document_type = step.document_type or _text(step, step.document_type_from, scope)
    requirement = workspaces.requirement_for(wtype, document_type)
    valid_until = _date(step, step.valid_until, scope)
    workspace, _ = _workspace(execution, step, wtype, scope, [])
    upload = ActionStep(
        key=step.key,
        name=step.name,
        type="action",
        connection=wtype.connection_id,
        action="upload_document",
        mapping=[
            {"target": "parent_id", "expression": str(workspace.ecm_node_id)},
            {"target": "folder_path", "expression": json.dumps(requirement.folder)},
            *step.mapping,
        ],
        document=step.document,
        transfer=step.transfer,
        retry=step.retry,
    )
    done = run_action(execution, upload)
    output = dict(done.output or {})
    govern(workspace, requirement, int(output["node_id"]))
    transfer = done.transfer.transfer if done.transfer else None
    workspaces.record_filing(
        workspace,
        requirement,
        workspaces.Filing(
            node_id=int(output["node_id"]),
            version=int(output.get("version") or 1),
            name=str(output.get("name") or (transfer.name if transfer else "")),
            sha256=str(output.get("sha256") or ""),
            size=output.get("size"),
            valid_until=valid_until,
            transfer_id=transfer.pk if transfer else None,
            run_id=execution.run.pk,
        ),
    )
    checklist = follow_up(workspace)
    done.output = {
        **output,
        "workspace_id": workspace.pk,
        "document_type": requirement.document_type,
        "access_url": workspaces.access_url(workspace, requirement.document_type),
        "checklist": checklist.summary,
        "complete": checklist.complete,
    }
    return done


def sync_metadata(execution: Execution, step: SyncStep) -> Done:
    from workspaces import services as workspaces
    from workspaces.sync import sync_workspace

    scope = execution.scope()
    wtype = workspaces.workspace_type(step.workspace_type)
    workspace, _ = _workspace(execution, step, wtype, scope, [])
    report = sync_workspace(workspace)
    return Done(
        input={"business_key": workspace.business_key, "type": wtype.key},
        output={
            "workspace_id": workspace.pk,
            "summary": report.summary,
            "changed": [
                {"field": c.rule.label, "to": c.to, "value": c.new}
                for c in report.changes
            ],
            "conflicts": [c.rule.label for c in report.conflicts if not c.by_rule]
            + report.waiting,
            "settled_by_owner": [c.rule.label for c in report.conflicts if c.by_rule],
            "task_id": report.task.pk if report.task else None,
        },
    )


def _workspace(
    execution: Execution,
    step: WorkspaceStep | FileStep | SyncStep,
    wtype: WorkspaceType,
    scope: dict[str, Any],
    links: list[tuple[str, str, str]],
) -> tuple[Workspace, bool]:
    from workspaces import services as workspaces

    key = _text(step, step.business_key, scope)
    if not key:
        raise PermanentError(
            f"Step “{step.label}”: the business key “{step.business_key}” is "
            "empty for this run, so no workspace can be found for it."
        )
    name = _text(step, step.workspace_name, scope) if step.workspace_name else ""
    return workspaces.find_or_create(
        wtype, key, name=name, links=links, run_id=execution.run.pk
    )


def _text(step: Any, source: str, scope: dict[str, Any]) -> str:
    value = expression(step.label, source, scope)
    return "" if value is None else str(value).strip()


def _date(step: FileStep, source: str, scope: dict[str, Any]) -> date | None:
    """The expiry date the flow gives (ISO date or date-time), if any."""
    if not source:
        return None
    value = _text(step, source, scope)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise PermanentError(
            f"Step “{step.label}”: the expiry date “{value}” is not a date like "
            "2027-03-31."
        ) from None
