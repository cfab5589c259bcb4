"""Following up a checklist: one task per item that needs a person, resolved
when the item moves on, and a document that expires reopening the item."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import Connection
from integrations.models import ReviewTask, TaskKind, TaskStatus
from workspaces.follow_up import follow_up, follow_up_expired
from workspaces.models import (
    DocumentRequirement,
    DocumentStatus,
    Workspace,
    WorkspaceDocument,
    WorkspaceType,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def workspace() -> Workspace:
    otcs = Connection.objects.create(connector_key="otcs", name="Content Server")
    wtype = WorkspaceType.objects.create(
        key="supplier", name="Supplier", connection=otcs, bo_type="vendor"
    )
    DocumentRequirement.objects.create(
        workspace_type=wtype, document_type="tax_form", label="Tax form"
    )
    DocumentRequirement.objects.create(
        workspace_type=wtype,
        document_type="insurance",
        label="Insurance certificate",
        valid_days=365,
        position=1,
    )
    DocumentRequirement.objects.create(
        workspace_type=wtype,
        document_type="brochure",
        label="Brochure",
        required=False,
        position=2,
    )
    return Workspace.objects.create(
        workspace_type=wtype, business_key="V-9", name="Tailspin", ecm_node_id=5
    )


def file(workspace: Workspace, kind: str, node: int, **fields) -> WorkspaceDocument:
    return WorkspaceDocument.objects.create(
        workspace=workspace,
        document_type=kind,
        name=f"{kind}.pdf",
        ecm_node_id=node,
        **fields,
    )


def pending(workspace: Workspace) -> dict[str, str]:
    return {
        task.document_type: task.kind
        for task in ReviewTask.objects.filter(
            workspace=workspace, status__in=["open", "claimed"]
        )
    }


def test_each_required_item_that_needs_a_person_has_one_task(workspace):
    # when: followed up twice with nothing filed
    follow_up(workspace)
    follow_up(workspace)

    # then: one task per required item (the optional brochure has none)
    assert pending(workspace) == {
        "tax_form": TaskKind.MISSING_DOCUMENT,
        "insurance": TaskKind.MISSING_DOCUMENT,
    }
    assert ReviewTask.objects.count() == 2


def test_a_filed_item_closes_its_task_and_completion_is_recorded_once(workspace):
    follow_up(workspace)
    file(workspace, "tax_form", 10)
    file(workspace, "insurance", 11, status=DocumentStatus.AWAITING_APPROVAL)

    # when
    follow_up(workspace)

    # then: the tax form's task is done; the certificate now waits for approval
    assert pending(workspace) == {"insurance": TaskKind.APPROVAL}
    tax = ReviewTask.objects.get(document_type="tax_form")
    assert (tax.status, tax.decision) == (TaskStatus.RESOLVED, "checklist")
    workspace.refresh_from_db()
    assert workspace.completed_at is None

    # when: approved
    WorkspaceDocument.objects.filter(document_type="insurance").update(
        status=DocumentStatus.APPROVED
    )
    follow_up(workspace)

    # then
    workspace.refresh_from_db()
    assert workspace.completed_at is not None
    assert pending(workspace) == {}


def test_a_document_that_expires_reopens_its_item(workspace):
    # given: a complete workspace whose certificate expired yesterday
    today = timezone.localdate()
    file(workspace, "tax_form", 10)
    file(workspace, "insurance", 11, valid_until=today + timedelta(days=10))
    follow_up(workspace)
    workspace.refresh_from_db()
    assert workspace.completed_at is not None
    WorkspaceDocument.objects.filter(document_type="insurance").update(
        valid_until=today - timedelta(days=1)
    )

    # when: the daily check runs (twice)
    assert follow_up_expired(today) == 1
    assert follow_up_expired(today) == 1

    # then: one task asks for a current certificate; no longer complete
    assert pending(workspace) == {"insurance": TaskKind.MISSING_DOCUMENT}
    task = ReviewTask.objects.get(document_type="insurance")
    assert task.title == "Tailspin: insurance certificate expired"
    assert task.reason == (
        f"insurance.pdf was valid until {today - timedelta(days=1):%-d %b %Y}: a "
        "current one is needed."
    )
    workspace.refresh_from_db()
    assert workspace.completed_at is None
