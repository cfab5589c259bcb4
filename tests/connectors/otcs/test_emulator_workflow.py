"""The emulated Content Server: workflows (draft processes, processes, status)."""

from __future__ import annotations

import json

import pytest

from tests.connectors.otcs.test_emulator_nodes import Otcs

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")

INVOICE, REVIEW = 2301, 2302


@pytest.fixture
def otcs(live_server, settings, tmp_path) -> Otcs:
    settings.VAR_DIR = tmp_path
    return Otcs(f"{live_server.url}/sandbox/otcs/api")


def draft(otcs: Otcs, **body) -> int:
    answer = otcs.call("POST", "v2/draftprocesses", data={"body": json.dumps(body)})
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]["draftprocess_id"]


def put(otcs: Otcs, draft_id: int, **body):
    return otcs.call(
        "PUT", f"v2/draftprocesses/{draft_id}", data={"body": json.dumps(body)}
    )


def start(otcs: Otcs, title: str = "") -> int:
    draft_id = draft(otcs, workflow_id=INVOICE)
    if title:
        put(otcs, draft_id, action="formUpdate", values={"WorkflowForm_Title": title})
    answer = put(otcs, draft_id, action="Initiate", comment="go")
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]["process_id"]


def test_create_a_draft_process_with_documents(otcs):
    # given
    document = otcs.document("inv.pdf", b"%PDF")

    # when
    answer = otcs.call(
        "POST",
        "v2/draftprocesses",
        data={
            "workflow_id": INVOICE,
            "doc_ids": str(document),
            "AttachDocuments": "true",
        },
    )

    # then
    assert answer.status_code == 200
    assert answer.json() == {
        "results": {"draftprocess_id": 150000, "workflow_type": "1_1"}
    }
    form = otcs.call(
        "GET", "v1/forms/draftprocesses/update", params={"draftprocess_id": 150000}
    ).json()
    assert form["data"]["data_packages"][0]["data"] == {"attachments": [document]}


def test_a_draft_of_an_unknown_map_or_with_an_unknown_document_is_refused(otcs):
    # when
    unknown_map = otcs.call("POST", "v2/draftprocesses", data={"workflow_id": 2000})
    unknown_doc = otcs.call(
        "POST", "v2/draftprocesses", data={"workflow_id": INVOICE, "doc_ids": "999"}
    )
    missing = otcs.call("POST", "v2/draftprocesses", data={})

    # then
    assert (unknown_map.status_code, unknown_map.json()) == (
        400,
        {"error": "Could not get a workflow map for 2000"},
    )
    assert (unknown_doc.status_code, unknown_doc.json()) == (
        400,
        {"error": "Could not get a node for 999"},
    )
    assert (missing.status_code, missing.json()) == (
        400,
        {"error": "Argument workflow_id is required."},
    )


def test_the_draft_form_has_workflow_form_attributes(otcs):
    # given
    draft_id = draft(otcs, workflow_id=INVOICE)

    # when
    answer = otcs.call(
        "GET", "v1/forms/draftprocesses/update", params={"draftprocess_id": draft_id}
    )

    # then
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"]["title"] == "Approve invoice"
    assert body["data"]["actions"] == [{"key": "Initiate", "label": "Start"}]
    assert body["forms"][0]["data"] == {
        "WorkflowForm_Title": "Approve invoice",
        "WorkflowForm_10": None,
        "WorkflowForm_11": None,
    }
    assert body["forms"][0]["schema"]["properties"]["WorkflowForm_11"] == {
        "title": "Amount",
        "type": "integer",
    }


def test_the_form_of_an_unknown_draft_is_refused(otcs):
    # when
    unknown = otcs.call(
        "GET", "v1/forms/draftprocesses/update", params={"draftprocess_id": 42}
    )
    missing = otcs.call("GET", "v1/forms/draftprocesses/update")

    # then
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"error": "Could not get a draft process for 42"},
    )
    assert missing.status_code == 400


def test_update_the_form_then_initiate(otcs):
    # given
    draft_id = draft(otcs, workflow_id=INVOICE)

    # when
    update = put(
        otcs,
        draft_id,
        action="formUpdate",
        values={"WorkflowForm_Title": "INV-7", "WorkflowForm_11": 120},
    )
    initiate = put(otcs, draft_id, action="Initiate", comment="please")

    # then
    assert (update.status_code, update.json()) == (200, {"results": {}})
    assert initiate.status_code == 200
    assert initiate.json() == {
        "results": {
            "custom_message": "Approve invoice was initiated successfully.",
            "process_id": 160000,
            "WorkID": None,
            "WRID": None,
        }
    }


def test_initiating_twice_and_unknown_fields_are_refused(otcs):
    # given
    draft_id = draft(otcs, workflow_id=INVOICE)
    put(otcs, draft_id, action="Initiate")

    # when
    again = put(otcs, draft_id, action="Initiate")
    other = draft(otcs, workflow_id=INVOICE)
    unknown_field = put(otcs, other, action="formUpdate", values={"Nope": 1})
    bad_action = put(otcs, other, action="Dance")
    unknown_draft = put(otcs, 42, action="Initiate")

    # then
    assert (again.status_code, again.json()) == (
        400,
        {"error": f"The draft process {draft_id} was already initiated."},
    )
    assert (unknown_field.status_code, unknown_field.json()) == (
        400,
        {"error": "The workflow form has no field Nope."},
    )
    assert bad_action.status_code == 400
    assert unknown_draft.status_code == 400


def test_start_a_process_with_roles(otcs):
    # when
    answer = otcs.call(
        "POST",
        "v2/processes",
        data={
            "body": json.dumps(
                {"definition": {"workflow_id": REVIEW, "role_info": {"Reviewer": 1000}}}
            )
        },
    )
    unknown = otcs.call(
        "POST",
        "v2/processes",
        data={"body": json.dumps({"definition": {"workflow_id": 7}})},
    )

    # then
    assert (answer.status_code, answer.json()) == (
        200,
        {"results": {"process_id": 160000}},
    )
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"error": "Could not get a workflow map for 7"},
    )


def test_the_status_of_a_process(otcs):
    # given
    process_id = start(otcs, title="INV-7")

    # when
    answer = otcs.call("GET", f"v2/workflows/status/processes/{process_id}")
    unknown = otcs.call("GET", "v2/workflows/status/processes/5")

    # then
    assert answer.status_code == 200
    results = answer.json()["results"]
    details = results["wf_details"]
    assert (details["status"], details["wf_name"], details["work_workID"]) == (
        "ontime",
        "INV-7",
        process_id,
    )
    assert details["initiator"]["loginName"] == "admin"
    [current] = results["step_list"]["current"]
    assert (current["task_id"], current["task_name"], current["task_status"]) == (
        1,
        "Approver",
        "ontime",
    )
    assert current["task_assignees"]["currentAssignee"] == "admin"
    assert [s["task_name"] for s in results["step_list"]["next"]] == ["Accounting"]
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"error": "Could not get a process for 5"},
    )


def test_list_initiated_processes_by_status(otcs):
    # given
    running = start(otcs, title="A")
    stopped = start(otcs, title="B")
    otcs.call("PUT", f"v2/processes/{stopped}/status", data={"status": "stop"})

    # when
    ontime = otcs.call(
        "GET", "v2/workflows/status", params={"kind": "Initiated", "wstatus": "ontime"}
    )
    every = otcs.call("GET", "v2/workflows/status", params={"kind": "Initiated"})
    bad = otcs.call("GET", "v2/workflows/status", params={"wstatus": "lost"})

    # then
    assert ontime.status_code == 200
    [only] = ontime.json()["results"]
    assert (
        only["data"]["wfstatus"]["process_id"],
        only["data"]["wfstatus"]["wf_name"],
    ) == (
        running,
        "A",
    )
    assert [
        (r["data"]["wfstatus"]["process_id"], r["data"]["wfstatus"]["status_key"])
        for r in every.json()["results"]
    ] == [(running, "ontime"), (stopped, "stopped")]
    assert bad.status_code == 400


def test_suspend_resume_and_stop_a_process(otcs):
    # given
    process_id = start(otcs)

    def change(status: str):
        return otcs.call(
            "PUT", f"v2/processes/{process_id}/status", data={"status": status}
        )

    # when
    suspended = change("suspend")
    resumed = change("resume")
    stopped = change("stop")
    again = change("resume")
    bad = change("explode")

    # then
    assert suspended.json() == {
        "results": {"process_id": process_id, "status": "suspended"}
    }
    assert resumed.json()["results"]["status"] == "ontime"
    assert (stopped.status_code, stopped.json()["results"]["status"]) == (
        200,
        "stopped",
    )
    assert (again.status_code, again.json()) == (
        400,
        {"error": f"The process {process_id} is stopped."},
    )
    assert bad.status_code == 400
    status = otcs.call("GET", f"v2/workflows/status/processes/{process_id}").json()
    assert status["results"]["step_list"]["current"] == []
