"""Supplier onboarding end to end against the emulators: a new supplier's
workspace asks for its four documents, reviewers upload them, the signed
contract is approved by someone else, and the complete workspace starts the
activation flow once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.models import AuditEvent
from connectors.sandbox.models import OtcsNode
from integrations import reviews, services
from integrations.models import FlowRun, ReviewTask, RunStatus, TaskKind, TaskStatus
from tests.factories import UserFactory
from tests.integrations.flows import drain, rule
from workspaces import services as workspaces
from workspaces.models import DocumentStatus, Workspace, WorkspaceDocument
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)


def flows(systems: Any, user: Any) -> tuple[Any, Any]:
    onboard = services.create_flow(
        "Onboard suppliers",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "workspace",
                    "type": "workspace",
                    "workspace_type": "supplier",
                    "business_key": "trigger.vendor",
                    "workspace_name": "trigger.name",
                    "links": [
                        {
                            "system": "dynamics",
                            "object_type": "vendor",
                            "object_id": "trigger.vendor",
                        }
                    ],
                }
            ],
        },
        user,
        activate=True,
    )
    activate = services.create_flow(
        "Activate suppliers",
        {
            "trigger": {"type": "workspace_complete", "workspace_type": "supplier"},
            "steps": [
                {
                    "key": "activate",
                    "type": "action",
                    "connection": systems.orders.pk,
                    "action": "request",
                    "mapping": [
                        rule("method", '"POST"'),
                        rule("path", '"echo"'),
                        rule(
                            "body",
                            '{"activate": trigger.workspace.business_key, '
                            '"contract": trigger.workspace.documents.signed_contract'
                            ".node_id}",
                        ),
                    ],
                }
            ],
        },
        user,
        activate=True,
    )
    return onboard, activate


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n" + name.encode() * 200, content_type="application/pdf"
    )


def test_supplier_onboarding_from_nothing_to_complete_starts_activation_once(
    systems, supplier, admin_user, woken
):
    # given: two reviewers, and a new supplier in Dynamics
    rita = UserFactory(username="rita", first_name="Rita", role=roles.REVIEWER)
    rob = UserFactory(username="rob", first_name="Rob", role=roles.REVIEWER)
    onboard, activate = flows(systems, admin_user)

    # when: the onboarding flow opens the supplier's workspace
    services.start_run(
        onboard, {"vendor": "V-200", "name": "Contoso Parts"}, admin_user
    )
    drain()

    # then: 0 of 4, and one "missing document" task per item
    workspace = Workspace.objects.get(business_key="V-200")
    assert workspaces.checklist(workspace).summary == "0 of 4"
    tasks = {t.document_type: t for t in ReviewTask.objects.filter(workspace=workspace)}
    assert sorted(tasks) == ["bank_details", "insurance", "signed_contract", "tax_form"]
    assert {t.kind for t in tasks.values()} == {TaskKind.MISSING_DOCUMENT}
    assert tasks["tax_form"].title == "Contoso Parts: tax form missing"
    assert tasks["tax_form"].business_object == "V-200"

    # when: Rita uploads three documents the supplier mailed her
    for kind in ("tax_form", "bank_details", "insurance"):
        assert (
            reviews.resolve_with_document(tasks[kind], rita, pdf(f"{kind}.pdf")) is None
        )
    # and the signed contract through the task page
    client = Client()
    client.force_login(rita)
    answer = client.post(
        f"/tasks/{tasks['signed_contract'].pk}/document/",
        {"document": pdf("contract.pdf"), "comment": "Signed on paper"},
    )

    # then: filed into the workspace's folders in Content Server
    assert answer.status_code == 302
    assert answer["Location"] == f"/workspaces/{workspace.pk}/"
    onboarding = OtcsNode.objects.get(
        parent_id=workspace.ecm_node_id, name="Onboarding"
    )
    assert sorted(
        OtcsNode.objects.filter(parent=onboarding).values_list("name", flat=True)
    ) == ["bank_details.pdf", "insurance.pdf", "tax_form.pdf"]
    assert OtcsNode.objects.filter(name="contract.pdf").get().parent.name == "Contracts"
    # and the contract now waits for approval: 3 of 4
    checklist = workspaces.checklist(workspace)
    assert checklist.summary == "3 of 4"
    assert checklist.states()["signed_contract"] == "awaiting_approval"
    approval = ReviewTask.objects.get(
        workspace=workspace, document_type="signed_contract", status=TaskStatus.OPEN
    )
    assert (approval.kind, approval.requested_by) == (TaskKind.APPROVAL, rita)
    assert all(
        t.status == TaskStatus.RESOLVED
        for t in ReviewTask.objects.filter(kind=TaskKind.MISSING_DOCUMENT)
    )
    assert not FlowRun.objects.filter(flow=activate).exists()

    # when: Rob opens the approval task: the contract is shown from
    # Content Server, and his reading it is in the trail
    rob_client = Client()
    rob_client.force_login(rob)
    page = rob_client.get(f"/tasks/{approval.pk}/").content.decode()
    assert f'src="/tasks/{approval.pk}/workspace-document/"' in page
    shown = rob_client.get(f"/tasks/{approval.pk}/workspace-document/")
    assert shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"].startswith("inline")
    assert b"".join(shown.streaming_content) == pdf("contract.pdf").read()
    assert AuditEvent.objects.filter(
        event_type="document.accessed",
        actor_name="rob",
        business_object="V-200",
        document_ref="contract.pdf",
    ).exists()

    # when: Rita tries to approve her own upload, then Rob approves it
    with pytest.raises(PermissionDenied, match="someone else has to approve"):
        reviews.approve(approval, rita)
    reviews.approve(approval, rob, comment="Signature checked")
    drain()

    # then: complete, and the activation flow ran once with the workspace
    workspace.refresh_from_db()
    assert workspaces.checklist(workspace).complete is True
    assert workspace.completed_at is not None
    run = FlowRun.objects.get(flow=activate)
    assert run.status == RunStatus.SUCCEEDED, run.error
    contract = WorkspaceDocument.objects.get(document_type="signed_contract")
    assert contract.status == DocumentStatus.APPROVED
    assert run.context["steps"]["activate"]["body"]["json"] == {
        "activate": "V-200",
        "contract": contract.ecm_node_id,
    }
    # and looking again changes nothing: no second activation, no new task
    from workspaces.follow_up import follow_up

    follow_up(workspace)
    drain()
    assert FlowRun.objects.filter(flow=activate).count() == 1
    assert not ReviewTask.objects.filter(status__in=["open", "claimed"]).exists()
    assert (
        AuditEvent.objects.filter(
            event_type="workspace.completed", business_object="V-200"
        ).count()
        == 1
    )
    assert (
        AuditEvent.objects.filter(
            event_type="document.transferred", business_object="V-200"
        ).count()
        == 4
    )
