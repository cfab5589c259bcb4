"""Workflow actions of the Content Server connector.

The calls are the ones OpenText's pyxecm sends (``/work/shared/EXTERNAL_APIS.md``
section 1, "Workflow"): create a draft process, read its form, ``formUpdate``
the ``WorkflowForm_*`` values, ``Initiate`` it; the status comes from
``v2/workflows/status/processes/{id}``.

**Idempotency (our choice).** Content Server keeps no client key on a
process, so the key is written into the process title: the title gets a
suffix ``[xc-<12 hex digits of SHA-256(idempotency key)>]``. Before starting,
the processes the connection's user initiated (``v2/workflows/status?
kind=Initiated``, every status) are searched for a title with that suffix;
the status list reports the title as ``wf_name`` [I]. A crash after the
draft was created but before it was initiated leaves an unused draft (no
process) and the retry starts the process once. Two runs of the same key at
the very same moment could both start one; runs of a key are sequential.
Without an idempotency key every call starts a new process.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from connectors.base import ActionContext, action
from connectors.errors import PermanentError
from connectors.otcs.client import ContentServerClient
from connectors.otcs.schemas import (
    StartWorkflowIn,
    StartWorkflowOut,
    WorkflowStatusIn,
    WorkflowStatusOut,
    WorkflowStep,
)


def key_marker(idempotency_key: str) -> str:
    """The title suffix that names the run which started a process."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
    return f"[xc-{digest}]"


def started_process(client: ContentServerClient, marker: str) -> dict[str, Any] | None:
    """The ``wfstatus`` of a process this user initiated with ``marker``."""
    payload = client.call("GET", "v2/workflows/status", params={"kind": "Initiated"})
    for row in payload.get("results") or []:
        status = (row.get("data") or {}).get("wfstatus") or {}
        if str(status.get("wf_name") or "").endswith(marker):
            return status
    return None


def _base_title(form: dict[str, Any], data: StartWorkflowIn) -> str:
    if data.title:
        return data.title
    fields = (form.get("forms") or [{}])[0].get("data") or {}
    return str(
        fields.get("WorkflowForm_Title") or (form.get("data") or {}).get("title") or ""
    )


def start(
    client: ContentServerClient, data: StartWorkflowIn, idempotency_key: str
) -> StartWorkflowOut:
    """Start the workflow once per idempotency key."""
    marker = key_marker(idempotency_key) if idempotency_key else ""
    if marker and (found := started_process(client, marker)):
        return StartWorkflowOut(
            process_id=int(found["process_id"]),
            title=str(found["wf_name"]),
            started=False,
        )
    spec: dict[str, Any] = {"workflow_id": data.workflow_id}
    if data.document_ids:
        spec["doc_ids"] = ",".join(str(i) for i in data.document_ids)
        spec["AttachDocuments"] = "true"
    draft = client.call("POST", "v2/draftprocesses", data={"body": json.dumps(spec)})
    draft_id = int((draft.get("results") or {})["draftprocess_id"])
    form = client.call(
        "GET",
        "v1/forms/draftprocesses/update",
        params={"draftprocess_id": draft_id},
    )
    title = " ".join(t for t in (_base_title(form, data), marker) if t)
    update = {"action": "formUpdate", "values": {**data.values}}
    update["values"]["WorkflowForm_Title"] = title
    client.call(
        "PUT", f"v2/draftprocesses/{draft_id}", data={"body": json.dumps(update)}
    )
    initiate = {"action": "Initiate", "comment": data.comment}
    answer = client.call(
        "PUT", f"v2/draftprocesses/{draft_id}", data={"body": json.dumps(initiate)}
    )
    process_id = (answer.get("results") or {}).get("process_id")
    if process_id is None:
        raise PermanentError(
            f"Content Server did not start draft process {draft_id}: the answer "
            "has no process_id."
        )
    return StartWorkflowOut(process_id=int(process_id), title=title, started=True)


def _step(row: dict[str, Any]) -> WorkflowStep:
    assignees = (row.get("task_assignees") or {}).get("assignee") or []
    return WorkflowStep(
        task_id=int(row["task_id"]),
        task_name=str(row.get("task_name") or ""),
        status=str(row.get("task_status") or ""),
        assignees=[str(a.get("loginName") or a.get("userId")) for a in assignees],
    )


def status(client: ContentServerClient, process_id: int) -> WorkflowStatusOut:
    """The process's status and its current and next steps."""
    payload = client.call("GET", f"v2/workflows/status/processes/{process_id}")
    results = payload.get("results") or {}
    details = results.get("wf_details") or {}
    steps = results.get("step_list") or {}
    return WorkflowStatusOut(
        process_id=process_id,
        title=str(details.get("wf_name") or ""),
        status=str(details.get("status") or ""),
        date_initiated=details.get("date_initiated") or None,
        current_steps=[_step(row) for row in steps.get("current") or []],
        next_steps=[_step(row) for row in steps.get("next") or []],
    )


class WorkflowActions:
    """The workflow actions, mixed into the Content Server connector."""

    client: ContentServerClient

    @action(
        "start_workflow",
        "Start a workflow",
        description="Start a workflow map with documents attached and form "
        "values set; a retry of the same run starts no second process.",
        input=StartWorkflowIn,
        output=StartWorkflowOut,
    )
    def start_workflow(
        self, data: StartWorkflowIn, context: ActionContext
    ) -> StartWorkflowOut:
        return start(self.client, data, context.idempotency_key)

    @action(
        "workflow_status",
        "Read a workflow's status",
        description="The status of a process and who its current steps are "
        "assigned to.",
        input=WorkflowStatusIn,
        output=WorkflowStatusOut,
    )
    def workflow_status(
        self, data: WorkflowStatusIn, context: ActionContext
    ) -> WorkflowStatusOut:
        return status(self.client, data.process_id)
