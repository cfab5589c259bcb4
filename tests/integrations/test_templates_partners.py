"""The trading-partner templates, each run end to end against the Trading
Grid and Content Server emulators as the flow it creates."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from audit.services import Actor
from connectors import services as connection_services
from connectors.base import ActionContext, Document
from connectors.sandbox.models import OtcsNode
from connectors.tradinggrid.sandbox.models import TgMessage, TgThread
from integrations import flow_templates, reviews, services, triggers
from integrations.engine.connections import connector_for
from integrations.engine.runner import execute_run
from integrations.models import Flow, FlowRun, ReviewTask, RunStatus, TaskKind
from tests.connectors.tradinggrid.contract import tradinggrid_case
from tests.factories import UserFactory
from tests.integrations.flows import deliver, drain
from workspaces.models import Workspace, WorkspaceDocument
from xconnector import roles

RETAILER, DISTRIBUTOR = "ZZ:DEMORETAILER", "ZZZ:DEMODIST"


@pytest.fixture
def grid(live_server, systems, admin_user) -> Any:
    values, secrets = tradinggrid_case(live_server)
    return connection_services.create_connection(
        Actor.user(admin_user),
        connector_key="tradinggrid",
        name="Trading Grid",
        settings=values,
        secrets=secrets,
    )


def use(key: str, user: Any, **connections: Any) -> Flow:
    return flow_templates.instantiate(key, connections, user)


def statuses() -> set[str]:
    return set(FlowRun.objects.values_list("status", flat=True))


def errors() -> list[str]:
    return list(FlowRun.objects.values_list("error", flat=True))


def put_document(systems: Any, name: str, content: bytes) -> int:
    """A document in Content Server, as a case worker would file it."""
    done, _ = connector_for(systems.otcs.pk)[1].run_action(
        "upload_document",
        {"parent_id": 2000, "folder_path": "Cases"},
        ActionContext(
            idempotency_key=f"test-{name}",
            documents=[Document.from_bytes(name, content)],
        ),
    )
    return int(done["node_id"])


def test_partner_case_shares_the_status_and_only_the_selected_document(
    systems, grid, admin_user, woken
):
    flow = use(
        "partner-case", admin_user, events=systems.hook, ecm=systems.otcs, grid=grid
    )
    photo = put_document(systems, "pallet.jpg", b"\xff\xd8 damaged pallet")
    put_document(systems, "internal-notes.txt", b"not for the partner")
    case = {
        "number": "D-8",
        "subject": "Damaged pallet on PO-1001",
        "partner": RETAILER,
        "status": "Investigating",
    }

    deliver(systems, flow, {"MessageId": "m-1", "case": case})
    drain()
    deliver(
        systems,
        flow,
        {"MessageId": "m-2", "case": {**case, "status": "Photo received"},
         "share": {"node_id": photo}},
    )  # fmt: skip
    drain()

    assert statuses() == {RunStatus.SUCCEEDED}, errors()
    thread = TgThread.objects.get()  # one thread per case
    assert (thread.subject, thread.case_reference) == (
        "Damaged pallet on PO-1001",
        "CASE-D-8",
    )
    messages = thread.tgmessage_set.order_by("id")
    assert [m.text for m in messages] == [
        "Status: Investigating",
        "Status: Photo received",
        "Shared with you: pallet.jpg",
    ]
    (shared,) = messages.last().attachments
    assert shared["fileName"] == "pallet.jpg"
    assert base64.b64decode(shared["content"]) == b"\xff\xd8 damaged pallet"


def test_po_exception_files_the_partners_correction_in_the_order(
    systems, grid, admin_user, woken
):
    flow = use(
        "po-exception", admin_user, events=systems.hook, grid=grid, ecm=systems.otcs
    )
    event = {**flow_templates.get("po-exception").sample["body"], "MessageId": "m-1"}

    assert deliver(systems, flow, event).status_code == 202
    drain()

    assert statuses() == {RunStatus.SUCCEEDED}, errors()
    asked = TgMessage.objects.order_by("id").first()
    assert asked.text == (
        "Exception on PO-1001: line 2 is priced 12.00, the contract says 11.50. "
        "Please send the corrected document with an explanation."
    )
    order = Workspace.objects.get(
        workspace_type__key="sales_order", business_key="PO-1001"
    )
    (filed,) = WorkspaceDocument.objects.filter(workspace=order)
    assert (filed.document_type, filed.name) == (
        "partner_correction",
        "COR-PO-1001.pdf",
    )
    node = OtcsNode.objects.get(pk=filed.ecm_node_id)
    assert (node.parent.name, node.parent.parent_id) == (
        "Exceptions",
        order.ecm_node_id,
    )


def test_po_exception_waits_for_a_silent_partner_and_says_so(
    systems, grid, admin_user, woken
):
    flow = use(
        "po-exception", admin_user, events=systems.hook, grid=grid, ecm=systems.otcs
    )
    event = {
        "MessageId": "m-1",
        "order": {"number": "PO-NOREPLY-7", "partner": RETAILER},
        "exception": "item 3 is missing",
    }

    deliver(systems, flow, event)
    run = FlowRun.objects.get()
    execute_run(run.pk, worker="test")
    execute_run(run.pk, worker="test")

    run.refresh_from_db()
    assert run.status == RunStatus.RETRYING
    assert run.error == (
        "ZZ:DEMORETAILER has not sent anything on “Request for COR PO-NOREPLY-7” "
        "yet: the step will look again later."
    )
    assert not WorkspaceDocument.objects.exists()


def test_partner_contract_is_shared_and_its_acknowledgement_checked(
    systems, grid, admin_user, woken
):
    flow = use(
        "partner-contract", admin_user, events=systems.hook, ecm=systems.otcs, grid=grid
    )
    node = put_document(systems, "contract-C-7.pdf", b"%PDF-1.4 contract C-7")

    def contract(message: str, number: str, partner: str) -> dict:
        return {
            "MessageId": message,
            "contract": {
                "number": number,
                "node_id": node,
                "version": 1,
                "partner": partner,
            },
        }

    deliver(systems, flow, contract("m-1", "C-7", DISTRIBUTOR))
    deliver(systems, flow, contract("m-2", "NOREPLY-9", RETAILER))
    drain()

    shared = FlowRun.objects.get(payload__body__MessageId="m-1")
    assert shared.status == RunStatus.SUCCEEDED, shared.error
    thread = TgThread.objects.get(case_reference="CONTRACT-C-7")
    (message,) = thread.tgmessage_set.all()
    assert message.text == (
        "Version 1 of contract C-7 is approved on our side. Please review it and "
        "acknowledge."
    )
    assert [a["fileName"] for a in message.attachments] == ["contract-C-7.pdf"]
    silent = FlowRun.objects.get(payload__body__MessageId="m-2")
    assert silent.status == RunStatus.NEEDS_REVIEW
    assert silent.error.startswith("The partner has not acknowledged the contract yet")
    assert ReviewTask.objects.filter(run=silent).exists()


SHIPMENT_214 = (
    "ST*214*0001~B10*SH-778*SH-778*DEMO~L11*PO-1001*PO~"
    "AT7*SD*AO***20261202*1200~SE*5*0001~"
)


def test_shipment_issue_is_filed_in_the_order_and_handed_to_a_reviewer(
    systems, grid, admin_user, woken
):
    flow = use("shipment-issue", admin_user, grid=grid, ecm=systems.otcs)
    sent = requests.post(
        f"{systems.url}/sandbox/tradinggrid/_sandbox/partner-documents",
        json={"from": RETAILER, "content": SHIPMENT_214},
        timeout=10,
    )
    assert sent.status_code == 201, sent.text

    assert triggers.poll(flow.pk) == 1
    drain()

    run = FlowRun.objects.get()
    assert run.status == RunStatus.WAITING, run.error
    order = Workspace.objects.get(
        workspace_type__key="sales_order", business_key="PO-1001"
    )
    (filed,) = WorkspaceDocument.objects.filter(workspace=order)
    assert filed.document_type == "shipment_notice"
    node = OtcsNode.objects.get(pk=filed.ecm_node_id)
    assert node.parent.name == "Shipping"
    task = ReviewTask.objects.get(run=run)
    assert (task.kind, task.title) == (TaskKind.APPROVAL, "A shipment has a problem")
    reviews.approve(
        task, UserFactory(username="rita", role=roles.REVIEWER), "Customer told"
    )
    drain()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert triggers.poll(flow.pk) == 0  # acknowledged: not offered again


def test_supplier_onboarding_requests_and_files_the_missing_document(
    systems, grid, admin_user, woken
):
    flow = use("supplier-onboarding", admin_user, grid=grid, ecm=systems.otcs)
    sample = flow_templates.get("supplier-onboarding").sample

    run, _ = services.start_run(flow, sample, admin_user)
    drain()

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    asked = TgThread.objects.get().tgmessage_set.order_by("id").first()
    assert (asked.text, asked.requested_doc_type) == (
        "For your onboarding as our supplier we still need: tax form.",
        "TAX",
    )
    supplier = Workspace.objects.get(workspace_type__key="supplier", business_key="V-2")
    (filed,) = WorkspaceDocument.objects.filter(workspace=supplier)
    assert (filed.document_type, filed.name) == ("tax_form", "TAX-V-2.pdf")
    # the tax form's task is closed; the rest of the checklist still waits
    open_tasks = ReviewTask.objects.filter(
        kind=TaskKind.MISSING_DOCUMENT, status="open"
    ).values_list("document_type", flat=True)
    assert sorted(open_tasks) == ["bank_details", "insurance", "signed_contract"]


def test_quality_incident_tracks_acknowledgements_until_everyone_has(
    systems, grid, admin_user, woken
):
    flow = use("quality-incident", admin_user, events=systems.hook, grid=grid)
    recall = flow_templates.get("quality-incident").sample["body"]["recall"]

    deliver(systems, flow, {"MessageId": "m-1", "recall": recall})
    deliver(
        systems,
        flow,
        {
            "MessageId": "m-2",
            "recall": {**recall, "number": "NOREPLY-4", "partners": [RETAILER]},
        },
    )
    drain()

    everyone = FlowRun.objects.get(payload__body__MessageId="m-1")
    assert everyone.status == RunStatus.SUCCEEDED, everyone.error
    assert (
        everyone.context["steps"]["count"]["summary"] == "2 of 2 partners acknowledged"
    )
    assert TgThread.objects.filter(case_reference="RECALL-R-2026-3").count() == 2
    silent = FlowRun.objects.get(payload__body__MessageId="m-2")
    assert silent.status == RunStatus.NEEDS_REVIEW
    assert silent.context["steps"]["count"]["pending"] == [RETAILER]
    assert "Not every partner has acknowledged the recall yet" in silent.error
