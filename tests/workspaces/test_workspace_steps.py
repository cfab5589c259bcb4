"""Workspace and file steps against the Content Server emulator: one
workspace per business object however many events arrive, and a supplier's
checklist filled by documents filed into its workspace."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from connectors.sandbox.models import OtcsNode, OtcsWorkspace, OtcsWorkspaceReference
from integrations import services
from integrations.models import FlowRun, RunStatus
from tests.integrations.flows import (
    TARGET,
    account_event,
    account_id,
    deliver,
    drain,
    rule,
)
from workspaces import services as workspaces
from workspaces.models import (
    Workspace,
    WorkspaceDocument,
    WorkspaceLink,
)

pytestmark = pytest.mark.django_db(transaction=True)


def account_flow(systems: Any, user: Any) -> Any:
    return services.create_flow(
        "Open customer workspaces",
        {
            "trigger": {"type": "webhook", "connection": systems.hook.pk},
            "business_key": '"account:" & trigger.body.PrimaryEntityId',
            "steps": [
                {
                    "key": "workspace",
                    "type": "workspace",
                    "workspace_type": "customer",
                    "business_key": "trigger.body.PrimaryEntityId",
                    "workspace_name": f'{TARGET}.Attributes[key="name"].value',
                    "links": [
                        {
                            "system": "dynamics",
                            "object_type": "account",
                            "object_id": "trigger.body.PrimaryEntityId",
                        }
                    ],
                }
            ],
        },
        user,
        activate=True,
    )


def test_ten_account_created_events_give_one_workspace(
    systems, customer, admin_user, woken
):
    # given: a flow that opens the customer's workspace when an account is made
    flow = account_flow(systems, admin_user)

    # when: Dynamics posts "account created" ten times (ten deliveries)
    for number in range(10):
        answer = deliver(systems, flow, account_event(7, message=f"created-{number}"))
        assert answer.status_code == 202
    drain()

    # then: ten runs, one workspace here and one in Content Server
    runs = list(FlowRun.objects.filter(flow=flow))
    assert [run.status for run in runs] == [RunStatus.SUCCEEDED] * 10
    assert sorted(run.context["steps"]["workspace"]["created"] for run in runs) == [
        False
    ] * 9 + [True]
    workspace = Workspace.objects.get()
    assert (workspace.business_key, workspace.name) == (account_id(7), "Customer 7")
    references = OtcsWorkspaceReference.objects.filter(bo_id=account_id(7))
    assert references.count() == 1
    assert workspace.ecm_node_id == references.get().workspace_id
    assert OtcsNode.objects.get(pk=workspace.ecm_node_id).name == "Customer 7"
    assert list(
        WorkspaceLink.objects.values_list("system", "object_type", "object_id")
    ) == [("dynamics", "account", account_id(7))]
    assert {run.context["steps"]["workspace"]["node_id"] for run in runs} == {
        workspace.ecm_node_id
    }


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises every writer"
)
def test_concurrent_events_about_one_object_make_one_workspace(customer):
    # given: ten workers that see the same new account at the same moment
    start = threading.Barrier(10)
    results: list[Any] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(workspaces.find_or_create(customer, "ACC-RACE", name="Race"))
        except Exception as error:
            results.append(error)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # then
    assert [type(result) for result in results] == [tuple] * 10, results
    assert sum(created for _, created in results) == 1
    assert Workspace.objects.filter(business_key="ACC-RACE").count() == 1
    assert OtcsWorkspaceReference.objects.filter(bo_id="ACC-RACE").count() == 1
    assert len({workspace.ecm_node_id for workspace, _ in results}) == 1


def receive_flow(systems: Any, user: Any, document_type: str, **file: Any) -> Any:
    return services.create_flow(
        f"Receive {document_type}",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "download",
                    "type": "action",
                    "connection": systems.orders.pk,
                    "action": "download",
                    "mapping": [rule("path", '"documents/" & trigger.file')],
                },
                {
                    "key": "file",
                    "type": "file",
                    "workspace_type": "supplier",
                    "business_key": "trigger.vendor",
                    "workspace_name": "trigger.name",
                    "document": "download",
                    "document_type": document_type,
                    "transfer": {
                        "source_system": '"Supplier portal"',
                        "source_id": 'trigger.vendor & "/" & trigger.file',
                    },
                    **file,
                },
            ],
        },
        user,
        activate=True,
    )


def test_filed_documents_fill_the_supplier_checklist(
    systems, supplier, admin_user, woken
):
    # given: flows that file what the supplier sends
    tax = receive_flow(systems, admin_user, "tax_form")
    insurance = receive_flow(
        systems, admin_user, "insurance", valid_until="trigger.expires"
    )
    contract = receive_flow(systems, admin_user, "signed_contract")
    vendor = {"vendor": "V-100", "name": "Fabrikam Supplies"}
    expired = (timezone.localdate() - timedelta(days=1)).isoformat()

    # when: the tax form, an expired certificate and the signed contract arrive
    first, _ = services.start_run(tax, {**vendor, "file": "w9.pdf"}, admin_user)
    old, _ = services.start_run(
        insurance, {**vendor, "file": "ins-2025.pdf", "expires": expired}, admin_user
    )
    signed, _ = services.start_run(
        contract, {**vendor, "file": "contract.pdf"}, admin_user
    )
    drain()

    # then: one workspace, filed in its folders; 1 of 4 counts
    for run in (first, old, signed):
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED, run.error
    workspace = Workspace.objects.get()
    assert workspace.name == "Fabrikam Supplies"
    assert OtcsWorkspace.objects.get(node_id=workspace.ecm_node_id).wksp_type_id == 18
    node = OtcsNode.objects.get(pk=first.context["steps"]["file"]["node_id"])
    assert (node.name, node.parent.name, node.parent.parent_id) == (
        "w9.pdf",
        "Onboarding",
        workspace.ecm_node_id,
    )
    checklist = workspaces.checklist(workspace)
    assert checklist.states() == {
        "tax_form": "present",
        "bank_details": "missing",
        "insurance": "expired",
        "signed_contract": "awaiting_approval",
    }
    assert (checklist.summary, checklist.complete) == ("1 of 4", False)
    output = signed.context["steps"]["file"]
    assert (output["workspace_id"], output["document_type"]) == (
        workspace.pk,
        "signed_contract",
    )

    # when: a valid certificate and the bank details arrive, and the tax form
    # is sent again
    fresh = (timezone.localdate() + timedelta(days=300)).isoformat()
    services.start_run(
        insurance, {**vendor, "file": "ins-2026.pdf", "expires": fresh}, admin_user
    )
    bank = receive_flow(systems, admin_user, "bank_details")
    services.start_run(bank, {**vendor, "file": "bank.pdf"}, admin_user)
    again, _ = services.start_run(
        tax, {**vendor, "file": "w9.pdf"}, admin_user, idempotency_key="tax-again"
    )
    drain()

    # then: 3 of 4 (the contract waits for approval); nothing filed twice
    checklist = workspaces.checklist(Workspace.objects.get())
    assert checklist.summary == "3 of 4"
    assert checklist.states()["insurance"] == "present"
    assert WorkspaceDocument.objects.count() == 5
    assert WorkspaceDocument.objects.filter(document_type="tax_form").count() == 1
    assert OtcsNode.objects.filter(name="w9.pdf").count() == 1
    again.refresh_from_db()
    assert again.context["steps"]["file"]["node_id"] == node.pk


def test_a_file_step_for_an_unknown_type_is_refused_at_publish(
    systems, supplier, admin_user
):
    with pytest.raises(services.InvalidDefinition) as refused:
        receive_flow(systems, admin_user, "passport")

    assert refused.value.problems == [
        "Step “File”: the workspace type “supplier” has no document type "
        "“passport” in its checklist."
    ]
