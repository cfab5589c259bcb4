"""Workflows: draft processes, processes and their status.

Follows /work/shared/EXTERNAL_APIS.md section 1 "Workflow" and the requests
and answers in OpenText's pyxecm (``create_draft_process``,
``get_draft_process``, ``update_draft_process``, ``initiate_draft_process``,
``get_workflow_status``, ``get_workflows_by_kind_and_status``). Workflow
maps are seeded nodes of subtype 128 (``state.WORKFLOW_MAPS``). Assumptions
are marked [A]:

- [A] nothing moves a process on by itself: it stays ``ontime`` on its first
  step until ``PUT api/v2/processes/{id}/status`` stops, suspends or resumes
  it (the emulator has no clock-driven steps, due dates or task inbox);
- [A] the process title (``WorkflowForm_Title``, default the map's name) is
  what the status calls report as ``wf_name``;
- [A] every step is assigned to the initiator unless ``role_info`` names a
  user for the step's role.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from connectors.otcs.emulator.responses import ApiError, integer, otcs, params, require
from connectors.otcs.emulator.state import WORKFLOW_MAPS, iso
from connectors.sandbox.models import OtcsNode, OtcsProcess, OtcsUser

WORKFLOW_MAP = 128
FIRST_DRAFT_ID = 150000
FIRST_PROCESS_ID = 160000
# [A] the actions accepted by PUT api/v2/processes/{id}/status and the
# status each one leads to.
STATUS_ACTIONS = {"stop": "stopped", "suspend": "suspended", "resume": "ontime"}
WSTATUS = {"ontime", "workflowlate", "stopped", "completed"}


def _map(workflow_id: Any) -> OtcsNode:
    number = integer(workflow_id, "workflow_id")
    node = OtcsNode.objects.filter(id=number, type=WORKFLOW_MAP).first()
    if node is None or number not in WORKFLOW_MAPS:
        # [A] wording and status of an unknown workflow map.
        raise ApiError(400, f"Could not get a workflow map for {number}")
    return node


def _doc_ids(value: Any) -> list[int]:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        parts = value
    else:
        parts = [p for p in str(value).split(",") if p.strip()]
    ids = [integer(part, "doc_ids") for part in parts]
    known = set(OtcsNode.objects.filter(id__in=ids).values_list("id", flat=True))
    for node_id in ids:
        if node_id not in known:
            raise ApiError(400, f"Could not get a node for {node_id}")
    return ids


def _new_draft(
    workflow: OtcsNode, user_id: int, docs: list[int], roles: dict[str, Any]
) -> OtcsProcess:
    top = OtcsProcess.objects.aggregate(top=Max("id"))["top"]
    return OtcsProcess.objects.create(
        id=max(FIRST_DRAFT_ID, (top or 0) + 1),
        workflow=workflow,
        doc_ids=docs,
        role_info=roles,
        initiator=user_id,
    )


def _initiate(process: OtcsProcess, comment: str) -> OtcsProcess:
    top = OtcsProcess.objects.aggregate(top=Max("process_id"))["top"]
    process.process_id = max(FIRST_PROCESS_ID, (top or 0) + 1)
    process.status = "ontime"
    process.comment = comment
    process.date_initiated = timezone.now()
    process.save()
    return process


@otcs("POST")
def draft_processes(request: HttpRequest, user_id: int) -> HttpResponse:
    """``POST api/v2/draftprocesses`` with ``workflow_id`` and ``doc_ids``."""
    values = params(request)
    workflow = _map(require(values, "workflow_id"))
    # [A] the documents are attached whether or not AttachDocuments is sent.
    draft = _new_draft(workflow, user_id, _doc_ids(values.get("doc_ids")), {})
    return JsonResponse(
        {"results": {"draftprocess_id": draft.id, "workflow_type": "1_1"}}
    )


def _draft(draftprocess_id: Any) -> OtcsProcess:
    number = integer(draftprocess_id, "draftprocess_id")
    draft = OtcsProcess.objects.filter(id=number).select_related("workflow").first()
    if draft is None:
        # [A] wording and status of an unknown draft process.
        raise ApiError(400, f"Could not get a draft process for {number}")
    return draft


def _title(process: OtcsProcess) -> str:
    return str(process.values.get("WorkflowForm_Title") or process.workflow.name)


def _form(draft: OtcsProcess) -> dict[str, Any]:
    """The draft's form in the Alpaca shape Content Server forms use."""
    fields = WORKFLOW_MAPS[draft.workflow_id]["form"]
    data = {f["key"]: draft.values.get(f["key"]) for f in fields}
    data["WorkflowForm_Title"] = _title(draft)
    return {
        "data": data,
        "options": {"fields": {f["key"]: {"label": f["label"]} for f in fields}},
        "schema": {
            "properties": {
                f["key"]: {"title": f["label"], "type": f["type"]} for f in fields
            },
            "type": "object",
        },
    }


@otcs("GET")
def draft_form(request: HttpRequest, user_id: int) -> HttpResponse:
    """``GET api/v1/forms/draftprocesses/update?draftprocess_id=``."""
    draft = _draft(require(request.GET, "draftprocess_id"))
    return JsonResponse(
        {
            "data": {
                "actions": [{"key": "Initiate", "label": "Start"}],
                "attachments_on": True,
                "comments_on": True,
                "data_packages": [
                    {"data": {"attachments": draft.doc_ids}, "sub_type": 1, "type": 1}
                ],
                "instructions": "",
                "process_id": draft.id,
                "title": draft.workflow.name,
                "workflow_type": "1_1",
            },
            "forms": [_form(draft)],
        }
    )


def _form_update(draft: OtcsProcess, values: Any) -> None:
    if not isinstance(values, dict):
        raise ApiError(400, "Invalid value for parameter values.")
    known = {f["key"] for f in WORKFLOW_MAPS[draft.workflow_id]["form"]}
    for key in values:
        if key not in known:
            # [A] a value for a field the form does not have is refused.
            raise ApiError(400, f"The workflow form has no field {key}.")
    draft.values = {**draft.values, **values}
    draft.save(update_fields=["values"])


@otcs("PUT")
def draft_process(
    request: HttpRequest, draftprocess_id: int, user_id: int
) -> HttpResponse:
    """``PUT api/v2/draftprocesses/{id}``: ``formUpdate`` or ``Initiate``."""
    values = params(request)
    action = str(require(values, "action"))
    with transaction.atomic():
        draft = _draft(draftprocess_id)
        if draft.process_id is not None:
            # [A] wording of a second initiation (or update) of a draft.
            raise ApiError(400, f"The draft process {draft.id} was already initiated.")
        if action == "formUpdate":
            _form_update(draft, values.get("values") or {})
            return JsonResponse({"results": {}})
        if action != "Initiate":
            raise ApiError(400, f"Invalid value for parameter action: {action}.")
        process = _initiate(draft, str(values.get("comment") or ""))
    return JsonResponse(
        {
            "results": {
                "custom_message": f"{draft.workflow.name} was initiated successfully.",
                "process_id": process.process_id,
                "WorkID": None,
                "WRID": None,
            }
        }
    )


@otcs("POST")
def processes(request: HttpRequest, user_id: int) -> HttpResponse:
    """``POST api/v2/processes`` with ``body={"definition": {...}}``."""
    definition = require(params(request), "definition")
    if not isinstance(definition, dict):
        raise ApiError(400, "Invalid value for parameter definition.")
    workflow = _map(require(definition, "workflow_id"))
    roles = definition.get("role_info") or {}
    if not isinstance(roles, dict):
        raise ApiError(400, "Invalid value for parameter role_info.")
    with transaction.atomic():
        draft = _new_draft(
            workflow, user_id, _doc_ids(definition.get("doc_ids")), roles
        )
        process = _initiate(draft, "")
    # [A] the answer uses the results envelope of the draft process initiation.
    return JsonResponse({"results": {"process_id": process.process_id}})


def _process(process_id: int) -> OtcsProcess:
    process = (
        OtcsProcess.objects.filter(process_id=process_id)
        .select_related("workflow")
        .first()
    )
    if process is None:
        # [A] wording and status of an unknown process.
        raise ApiError(400, f"Could not get a process for {process_id}")
    return process


def _user(user_id: int) -> dict[str, Any]:
    user = OtcsUser.objects.filter(id=user_id).first()
    return {
        "userId": user_id,
        "loginName": user.name if user else str(user_id),
        "firstName": user.first_name if user else "",
        "lastName": user.last_name if user else "",
        "emailAddress": user.email if user else "",
        "phone": "",
    }


def _steps(process: OtcsProcess) -> list[dict[str, Any]]:
    """Every step of the map; [A] only the first one is ever current."""
    steps = []
    for step in WORKFLOW_MAPS[process.workflow_id]["steps"]:
        assignee = _user(int(process.role_info.get(step["role"], process.initiator)))
        steps.append(
            {
                "process_id": process.process_id,
                "subprocess_id": process.process_id,
                "task_id": step["task_id"],
                "task_name": step["task_name"],
                "task_due_date": "",
                "task_start_date": iso(process.date_initiated),
                "task_status": process.status,
                "task_assignees": {
                    "assignee": [assignee],
                    "assigneeCount": 1,
                    "currentAssignee": assignee["loginName"],
                },
            }
        )
    return steps


@otcs("GET")
def process_status(request: HttpRequest, process_id: int, user_id: int) -> HttpResponse:
    """``GET api/v2/workflows/status/processes/{process_id}``."""
    process = _process(process_id)
    steps = _steps(process)
    running = process.status in {"ontime", "suspended"}
    return JsonResponse(
        {
            "results": {
                "attachments": {"attachment_folder_id": None},
                "data_packages": [
                    {"TYPE": 1, "SUBTYPE": 1, "USERDATA": process.doc_ids},
                ],
                "permissions": {"SeeDetail": True, "Stop": True, "Suspend": True},
                "step_list": {
                    "completed": [],
                    "current": steps[:1] if running else [],
                    "next": steps[1:] if running else [],
                },
                "wf_details": {
                    "date_initiated": iso(process.date_initiated),
                    "due_date": "",
                    "initiator": _user(process.initiator),
                    "status": process.status,
                    "wf_name": _title(process),
                    "work_workID": process.process_id,
                },
            }
        }
    )


def _wfstatus(process: OtcsProcess) -> dict[str, Any]:
    first = _steps(process)[0]
    assignees = first["task_assignees"]
    return {
        "data": {
            "wfstatus": {
                "assignee": assignees["assignee"],
                "assignee_count": 1,
                "current_assignee": assignees["currentAssignee"],
                "date_initiated": iso(process.date_initiated),
                "due_date": "",
                "parallel_steps": [first],
                "process_id": process.process_id,
                "status_key": process.status,
                "step_name": first["task_name"],
                "steps_count": 1,
                "subprocess_id": process.process_id,
                "task_id": first["task_id"],
                "wf_name": _title(process),
            }
        }
    }


@otcs("GET")
def statuses(request: HttpRequest, user_id: int) -> HttpResponse:
    """``GET api/v2/workflows/status?kind=Initiated&wstatus=ontime``.

    [A] ``Managed`` and ``Both`` list the same processes as ``Initiated``
    (the caller initiated them); several ``wstatus`` values may be given.
    """
    kind = request.GET.get("kind") or "Both"
    if kind not in {"Initiated", "Managed", "Both"}:
        raise ApiError(400, f"Invalid value for parameter kind: {kind}.")
    wanted = set(request.GET.getlist("wstatus"))
    if wanted - WSTATUS:
        raise ApiError(400, "Invalid value for parameter wstatus.")
    rows = OtcsProcess.objects.filter(
        process_id__isnull=False, initiator=user_id
    ).select_related("workflow")
    if wanted:
        rows = rows.filter(status__in=wanted)
    answer = [_wfstatus(p) for p in rows.order_by("process_id")]
    return JsonResponse({"results": answer})


@otcs("PUT")
def process_status_change(
    request: HttpRequest, process_id: int, user_id: int
) -> HttpResponse:
    """``PUT api/v2/processes/{id}/status`` with ``status`` (stop, suspend, resume)."""
    wanted = str(require(params(request), "status"))
    if wanted not in STATUS_ACTIONS:
        raise ApiError(400, f"Invalid value for parameter status: {wanted}.")
    with transaction.atomic():
        process = _process(process_id)
        if process.status in {"stopped", "completed"}:
            # [A] a stopped or completed process cannot change any more.
            raise ApiError(400, f"The process {process_id} is {process.status}.")
        process.status = STATUS_ACTIONS[wanted]
        process.save(update_fields=["status"])
    return JsonResponse(
        {"results": {"process_id": process_id, "status": process.status}}
    )
