"""A Dynamics-style event files a contract into Content Server, in process."""

from __future__ import annotations

import hashlib

import pytest

from audit.models import AuditEvent
from connectors.sandbox.models import OtcsNode
from integrations.models import FlowRun, RunStatus, StepRun, Transfer, TransferStatus
from tests.integrations.flows import (
    account_event,
    account_id,
    contract_flow,
    deliver,
    drain,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_account_event_files_its_contract_into_the_account_workspace(
    systems, admin_user, woken
):
    # given
    flow = contract_flow(systems, admin_user)

    # when
    answer = deliver(systems, flow, account_event(7))
    drain()

    # then
    run = FlowRun.objects.get()
    assert answer.status_code == 202
    assert answer.json() == {
        "status": "accepted",
        "run_id": run.pk,
        "event_id": "msg-7",
    }
    assert woken == [run.pk]
    assert run.status == RunStatus.SUCCEEDED, run.error
    workspace = OtcsNode.objects.get(name="Customer 7")
    contract = OtcsNode.objects.get(name=f"contract-{account_id(7)}.txt")
    assert contract.parent.name == "Contracts"
    assert contract.parent.parent_id == workspace.pk
    steps = run.context["steps"]
    assert steps["file"]["node_id"] == contract.pk
    assert steps["link_back"]["body"]["json"] == {
        "regardingobjectid": account_id(7),
        "otcs_node_id": contract.pk,
    }
    assert [s.step_key for s in StepRun.objects.filter(run=run)] == [
        "contract",
        "workspace",
        "file",
        "link_back",
    ]
    transfer = Transfer.objects.get()
    assert (transfer.source_system, transfer.source_id, transfer.status) == (
        "D365",
        f"{account_id(7)}/contract",
        TransferStatus.DONE,
    )
    assert transfer.target_ref == str(contract.pk)
    content = f"Order confirmation contract-{account_id(7)}.txt\n".encode() * 100
    assert (transfer.sha256, transfer.size) == (
        hashlib.sha256(content).hexdigest(),
        len(content),
    )
    event = AuditEvent.objects.get(event_type="document.transferred")
    assert event.run_id == run.pk
    assert event.target_ref == str(contract.pk)
    assert event.document_sha256 == transfer.sha256
