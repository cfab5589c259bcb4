"""Workflow actions against the emulated Content Server."""

from __future__ import annotations

import io

import pytest
import requests

from connectors.base import ActionContext
from connectors.errors import PermanentError
from connectors.otcs.connector import ContentServerConnector
from connectors.otcs.workflow import key_marker

pytestmark = [
    pytest.mark.urls("tests.connectors.otcs.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]

INVOICE = 2301


def run(otcs: ContentServerConnector, name: str, values: dict, key: str = "k") -> dict:
    return otcs.run_action(name, values, ActionContext(idempotency_key=key))[0]


def emulator(otcs: ContentServerConnector, method: str, path: str, **kwargs):
    return requests.request(
        method,
        f"{otcs.config.base_url}{path}",
        headers={"OTCSTicket": otcs.client.authenticate()},
        timeout=10,
        **kwargs,
    )


def test_start_a_workflow_once_per_key(otcs):
    # given
    document = otcs.client.upload(2000, "inv.pdf", io.BytesIO(b"%PDF"))["id"]
    values = {
        "workflow_id": INVOICE,
        "document_ids": [document],
        "title": "INV-7",
        "values": {"WorkflowForm_10": "INV-7", "WorkflowForm_11": 120},
        "comment": "please approve",
    }

    # when
    first = run(otcs, "start_workflow", values, key="run-1")
    retry = run(otcs, "start_workflow", values, key="run-1")
    other = run(otcs, "start_workflow", values, key="run-2")

    # then
    title = f"INV-7 {key_marker('run-1')}"
    assert first == {"process_id": 160000, "title": title, "started": True}
    assert retry == {**first, "started": False}
    assert other["process_id"] == 160001
    listed = emulator(otcs, "GET", "v2/workflows/status", params={"kind": "Initiated"})
    assert len(listed.json()["results"]) == 2
    form = emulator(
        otcs,
        "GET",
        "v1/forms/draftprocesses/update",
        params={"draftprocess_id": 150000},
    ).json()
    assert form["forms"][0]["data"] == {
        "WorkflowForm_Title": title,
        "WorkflowForm_10": "INV-7",
        "WorkflowForm_11": 120,
    }
    assert form["data"]["data_packages"][0]["data"] == {"attachments": [document]}


def test_the_title_defaults_to_the_map_name(otcs):
    # when
    started = run(otcs, "start_workflow", {"workflow_id": INVOICE})

    # then
    assert started["title"] == f"Approve invoice {key_marker('k')}"


def test_starting_an_unknown_map_is_a_permanent_error(otcs):
    # when
    with pytest.raises(PermanentError) as raised:
        run(otcs, "start_workflow", {"workflow_id": 2000})

    # then
    assert "Could not get a workflow map for 2000" in str(raised.value)


def test_form_values_must_be_workflow_form_attributes(otcs):
    # when
    with pytest.raises(PermanentError) as raised:
        run(otcs, "start_workflow", {"workflow_id": INVOICE, "values": {"Amount": 1}})

    # then
    assert "is not a workflow form attribute" in str(raised.value)


def test_the_status_of_a_started_workflow(otcs):
    # given
    started = run(otcs, "start_workflow", {"workflow_id": INVOICE, "title": "T"})
    process_id = started["process_id"]

    # when
    status = run(otcs, "workflow_status", {"process_id": process_id})

    # then
    assert status["process_id"] == process_id
    assert status["title"] == started["title"]
    assert status["status"] == "ontime"
    assert status["date_initiated"]
    assert status["current_steps"] == [
        {
            "task_id": 1,
            "task_name": "Approver",
            "status": "ontime",
            "assignees": ["admin"],
        }
    ]
    assert status["next_steps"] == [
        {
            "task_id": 2,
            "task_name": "Accounting",
            "status": "ontime",
            "assignees": ["admin"],
        }
    ]


def test_the_status_of_a_stopped_workflow(otcs):
    # given
    process_id = run(otcs, "start_workflow", {"workflow_id": INVOICE})["process_id"]
    emulator(otcs, "PUT", f"v2/processes/{process_id}/status", data={"status": "stop"})

    # when
    status = run(otcs, "workflow_status", {"process_id": process_id})

    # then
    assert (status["status"], status["current_steps"], status["next_steps"]) == (
        "stopped",
        [],
        [],
    )


def test_the_status_of_an_unknown_process_is_a_permanent_error(otcs):
    # when
    with pytest.raises(PermanentError) as raised:
        run(otcs, "workflow_status", {"process_id": 5})

    # then
    assert "Could not get a process for 5" in str(raised.value)
