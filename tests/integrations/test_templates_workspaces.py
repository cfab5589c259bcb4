"""The business-workspace templates that write back to Dynamics 365:
contract lifecycle, supporting documents for transactions, and documents
back into business apps; each run end to end against the emulators."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from connectors.base import ActionContext
from connectors.sandbox.models import OtcsNode, OtcsWorkspaceReference
from integrations import flow_templates, reviews
from integrations.engine.connections import connector_for
from integrations.models import Flow, FlowRun, ReviewTask, RunStatus, TaskKind
from tests.factories import UserFactory
from tests.integrations.flows import deliver, drain
from workspaces.models import Workspace, WorkspaceDocument
from xconnector import roles

BASE = "https://xc.example"


def use(key: str, user: Any, **connections: Any) -> Flow:
    return flow_templates.instantiate(key, connections, user)


def crm(dynamics: Any, action: str, values: dict) -> dict:
    return connector_for(dynamics.pk)[1].run_action(
        action, values, ActionContext(idempotency_key=f"test-{action}-{values}")
    )[0]


def locations(dynamics: Any, record_id: str) -> list[tuple[str, str]]:
    found = crm(
        dynamics,
        "query",
        {
            "entity_set": "sharepointdocumentlocations",
            "filter": f"_regardingobjectid_value eq {record_id}",
            "select": ["name", "absoluteurl"],
        },
    )
    return sorted((r["name"], r["absoluteurl"]) for r in found["records"])


def stage_event(message: str, opportunity: str, stage: str) -> dict[str, Any]:
    """What Dynamics 365 posts when an opportunity moves to ``stage``."""
    return {
        "MessageId": message,
        "MessageName": "Update",
        "PrimaryEntityName": "opportunity",
        "PrimaryEntityId": opportunity,
        "InputParameters": [
            {
                "key": "Target",
                "value": {
                    "LogicalName": "opportunity",
                    "Id": opportunity,
                    "Attributes": [{"key": "stepname", "value": stage}],
                },
            }
        ],
    }


def test_contract_sync_opens_the_workspace_and_writes_status_and_link_back(
    systems, dynamics, admin_user, settings, woken
):
    settings.XCONNECTOR_BASE_URL = BASE
    deal = crm(
        dynamics,
        "create",
        {"entity_set": "opportunities", "values": {"name": "Contoso renewal"}},
    )["id"]
    flow = use(
        "contract-sync", admin_user, events=systems.hook, crm=dynamics,
        ecm=systems.otcs,
    )  # fmt: skip

    deliver(systems, flow, stage_event("m-1", deal, "2-Develop"))
    drain()
    assert not Workspace.objects.exists()  # not a contract stage yet

    deliver(systems, flow, stage_event("m-2", deal, "3-Propose"))
    drain()
    workspace = Workspace.objects.get(workspace_type__key="contract")
    assert (workspace.business_key, workspace.name) == (
        deal,
        "Contract Contoso renewal",
    )
    reference = OtcsWorkspaceReference.objects.get(bo_id=deal)
    assert reference.workspace.node_id == workspace.ecm_node_id
    record = crm(dynamics, "get", {"entity_set": "opportunities", "id": deal})
    assert record["record"]["description"] == "Contract in drafting"
    link = f"{BASE}/workspaces/documents/?type=contract&key={deal}&document="
    assert locations(dynamics, deal) == [
        ("Contract (Content Server)", f"{link}draft_contract")
    ]

    deliver(systems, flow, stage_event("m-3", deal, "4-Close"))
    drain()
    assert set(FlowRun.objects.values_list("status", flat=True)) == {
        RunStatus.SUCCEEDED
    }
    assert Workspace.objects.filter(workspace_type__key="contract").count() == 1
    record = crm(dynamics, "get", {"entity_set": "opportunities", "id": deal})
    assert record["record"]["description"] == "Contract executed"
    assert (
        "Contract (Content Server)",
        f"{link}executed_contract",
    ) in locations(dynamics, deal)


def test_transaction_docs_files_each_document_by_type_and_links_it_on_the_order(
    systems, dynamics, admin_user, settings, woken
):
    settings.XCONNECTOR_BASE_URL = BASE
    order = crm(
        dynamics,
        "create",
        {"entity_set": "salesorders", "values": {"name": "SO-1001"}},
    )["id"]
    flow = use(
        "transaction-docs", admin_user, events=systems.hook, source=systems.orders,
        crm=dynamics, ecm=systems.otcs,
    )  # fmt: skip

    def document(message: str, kind: str) -> dict[str, Any]:
        return {
            "MessageId": message,
            "order": {"number": "SO-1001", "id": order},
            "document": {"type": kind, "path": f"documents/SO-1001-{kind}.txt"},
        }

    for message, kind in (
        ("m-1", "signed_form"),
        ("m-2", "shipping_confirmation"),
        ("m-3", "signed_form"),  # the portal sends it again
        ("m-4", "photo"),  # not a document type of orders
    ):
        assert deliver(systems, flow, document(message, kind)).status_code == 202
    drain()

    workspace = Workspace.objects.get(workspace_type__key="sales_order")
    filed = WorkspaceDocument.objects.filter(workspace=workspace)
    assert sorted(filed.values_list("document_type", flat=True)) == [
        "shipping_confirmation",
        "signed_form",
    ]
    signed = OtcsNode.objects.get(name="SO-1001-signed_form.txt")
    assert signed.parent.name == "Order documents"
    assert signed.parent.parent_id == workspace.ecm_node_id
    shipping = OtcsNode.objects.get(name="SO-1001-shipping_confirmation.txt")
    assert shipping.parent.name == "Shipping"
    link = f"{BASE}/workspaces/documents/?type=sales_order&key=SO-1001&document="
    assert locations(dynamics, order) == [
        ("SO-1001-shipping_confirmation.txt", f"{link}shipping_confirmation"),
        ("SO-1001-signed_form.txt", f"{link}signed_form"),  # once
    ]
    photo = FlowRun.objects.get(payload__body__MessageId="m-4")
    assert photo.status == RunStatus.NEEDS_REVIEW
    assert "has no document type “photo” in its checklist" in photo.error
    assert OtcsNode.objects.filter(name="SO-1001-signed_form.txt").count() == 1


def test_document_access_links_the_approved_contract_on_the_account(
    systems, dynamics, admin_user, settings, woken
):
    contoso = "aaaaaaaa-0000-4000-8000-000000000001"
    flow = use(
        "document-access", admin_user, events=systems.hook, crm=dynamics,
        ecm=systems.otcs,
    )  # fmt: skip
    request = {**flow_templates.get("document-access").sample["body"]}

    # no approved contract yet: said in words, nothing linked
    deliver(systems, flow, {**request, "MessageId": "m-1"})
    drain()
    first = FlowRun.objects.get()
    assert first.status == RunStatus.NEEDS_REVIEW
    assert "no approved version of this document yet" in first.error
    assert locations(dynamics, contoso) == []

    # a reviewer files the signed contract; another approves it
    missing = ReviewTask.objects.get(kind=TaskKind.MISSING_DOCUMENT)
    reviews.resolve_with_document(
        missing,
        UserFactory(username="rita", role=roles.REVIEWER),
        SimpleUploadedFile("contract.pdf", b"%PDF-1.4 signed", "application/pdf"),
    )
    reviews.approve(
        ReviewTask.objects.get(kind=TaskKind.APPROVAL),
        UserFactory(username="rob", role=roles.REVIEWER),
    )
    deliver(systems, flow, {**request, "MessageId": "m-2"})
    drain()

    second = FlowRun.objects.get(payload__body__MessageId="m-2")
    assert second.status == RunStatus.SUCCEEDED, second.error
    ((name, url),) = locations(dynamics, contoso)
    assert name == "Current signed contract"
    assert url == "/workspaces/documents/?type=customer&key=A1&document=signed_contract"
    # the link gives the approved version to someone allowed to read it
    reader = Client()
    reader.force_login(UserFactory(username="rob2", role=roles.REVIEWER))
    answer = reader.get(url)
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == b"%PDF-1.4 signed"
    outsider = Client()
    outsider.force_login(UserFactory(username="vic", role=roles.VIEWER))
    assert outsider.get(url).status_code == 403
