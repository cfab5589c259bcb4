"""The workspaces list and one workspace's page: search by business key, the
checklist in words, documents and links, and a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.services import Actor, EventType, record
from connectors.models import Connection
from integrations.models import ReviewTask, TaskKind
from tests.factories import UserFactory
from workspaces.models import (
    DocumentRequirement,
    DocumentStatus,
    Workspace,
    WorkspaceDocument,
    WorkspaceLink,
    WorkspaceType,
)
from xconnector import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplier(admin_user) -> WorkspaceType:
    otcs = Connection.objects.create(
        connector_key="otcs", name="Content Server", settings={}
    )
    wtype = WorkspaceType.objects.create(
        key="supplier",
        name="Supplier",
        connection=otcs,
        ext_system_id="D365",
        bo_type="vendor",
    )
    for position, (kind, label, approval) in enumerate(
        [
            ("tax_form", "Tax form", False),
            ("insurance", "Insurance certificate", False),
            ("signed_contract", "Signed contract", True),
        ]
    ):
        DocumentRequirement.objects.create(
            workspace_type=wtype,
            document_type=kind,
            label=label,
            needs_approval=approval,
            position=position,
        )
    return wtype


def workspace(wtype: WorkspaceType, key: str, name: str, **documents: Any) -> Any:
    found = Workspace.objects.create(
        workspace_type=wtype, business_key=key, name=name, ecm_node_id=90000
    )
    for number, (kind, fields) in enumerate(documents.items(), start=1):
        WorkspaceDocument.objects.create(
            workspace=found,
            document_type=kind,
            name=f"{kind}.pdf",
            ecm_node_id=90000 + number,
            sha256="ab" * 32,
            size=2048,
            **fields,
        )
    return found


def test_the_list_searches_by_business_key_and_shows_progress(admin_client, supplier):
    # given
    workspace(supplier, "V-100", "Fabrikam", tax_form={})
    workspace(supplier, "V-200", "Northwind")

    # when
    everything = admin_client.get("/workspaces/").content.decode()
    found = admin_client.get("/workspaces/?q=v-1").content.decode()
    nothing = admin_client.get("/workspaces/?q=ZZZ").content.decode()

    # then
    assert everything.count('<tr data-workspace="') == 2
    assert 'data-checklist="1/3"' in everything
    assert 'data-checklist="0/3"' in everything
    assert found.count('<tr data-workspace="') == 1
    assert "Fabrikam" in found and "Northwind" not in found
    assert "No workspace matches “ZZZ”." in nothing


def test_no_workspaces_yet_says_where_they_come_from(admin_client):
    page = admin_client.get("/workspaces/").content.decode()

    assert "No workspaces yet." in page
    assert "the first time a flow files a document" in page


def test_a_workspace_page_shows_each_item_in_words(admin_client, supplier):
    # given: a tax form, an expired certificate, a contract awaiting approval
    yesterday = timezone.localdate() - timedelta(days=1)
    found = workspace(
        supplier,
        "V-100",
        "Fabrikam",
        tax_form={},
        insurance={"valid_until": yesterday},
        signed_contract={"status": DocumentStatus.AWAITING_APPROVAL},
    )
    WorkspaceLink.objects.create(
        workspace=found, system="dynamics", object_type="vendor", object_id="V-100"
    )
    task = ReviewTask.objects.create(
        kind=TaskKind.MISSING_DOCUMENT,
        workspace=found,
        document_type="insurance",
        queue=roles.REVIEWER,
        title="Fabrikam: insurance certificate expired",
    )
    record(
        EventType.TASK_OPENED,
        Actor.system("flow engine"),
        summary=f"Task {task.pk} opened: {task.title}",
        business_object="V-100",
    )

    # when
    page = admin_client.get(f"/workspaces/{found.pk}/").content.decode()

    # then
    assert 'data-item="tax_form" data-state="present"' in page
    assert 'data-item="insurance" data-state="expired"' in page
    assert f"expired on {yesterday:%-d %b %Y}: a current one is needed." in page
    assert 'data-item="signed_contract" data-state="awaiting_approval"' in page
    assert "signed_contract.pdf waits for approval." in page
    assert "1 of 3 required documents" in page
    assert page.count('<tr data-document="') == 3
    assert 'data-link="dynamics"' in page
    assert f'href="/tasks/{task.pk}/" data-task="{task.pk}">Upload it' in page
    assert f"Task {task.pk} opened: Fabrikam: insurance certificate" in page


def test_pages_take_the_same_few_queries_for_many_workspaces(admin_client, supplier):
    workspace(supplier, "V-0", "First", tax_form={})
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get("/workspaces/").status_code == 200
    for number in range(1, 30):
        workspace(supplier, f"V-{number}", f"Supplier {number}", tax_form={})
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get("/workspaces/").status_code == 200

    assert len(many.captured_queries) == len(few.captured_queries) <= 15


def test_an_unknown_workspace_is_404_and_a_user_without_a_role_is_refused(
    client, admin_client, supplier
):
    found = workspace(supplier, "V-100", "Fabrikam")
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)

    assert admin_client.get("/workspaces/999999/").status_code == 404
    assert client.get(f"/workspaces/{found.pk}/").status_code == 403
    reviewer = UserFactory(username="rita", role=roles.REVIEWER)
    client.force_login(reviewer)
    assert client.get(f"/workspaces/{found.pk}/").status_code == 200
