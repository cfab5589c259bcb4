"""Legal holds on a workspace reach every document in Content Server (and the
ones filed later); business applications read the approved version of a
document, and a caller without access is refused; every access is audited."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from connectors.sandbox.models import OtcsNodeHold
from integrations import services
from integrations.models import RunStatus
from tests.factories import UserFactory
from tests.integrations.flows import drain
from tests.workspaces.test_workspace_steps import receive_flow
from workspaces.models import Workspace, WorkspaceDocument
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)
VENDOR = {"vendor": "V-300", "name": "Litware"}


def file_all(systems: Any, user: Any, *kinds: str) -> None:
    for kind in kinds:
        flow = receive_flow(systems, user, kind)
        run, _ = services.start_run(flow, {**VENDOR, "file": f"{kind}.pdf"}, user)
    drain()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_legal_hold_reaches_every_document_and_later_ones(
    systems, supplier, admin_user, woken
):
    # given: a supplier workspace with three documents
    file_all(systems, admin_user, "tax_form", "bank_details", "signed_contract")
    workspace = Workspace.objects.get()
    carl = UserFactory(username="carl", role=roles.COMPLIANCE_AUDITOR)

    # when: compliance puts the workspace on hold from its page
    answer = client_for(carl).post(
        f"/workspaces/{workspace.pk}/holds/",
        {"name": "Litigation 2026-14", "comment": "Supplier dispute"},
        follow=True,
    )

    # then: every document is held in Content Server, and the page says so
    nodes = set(WorkspaceDocument.objects.values_list("ecm_node_id", flat=True))
    assert len(nodes) == 3
    held = OtcsNodeHold.objects.filter(hold__name="Litigation 2026-14")
    assert set(held.values_list("node_id", flat=True)) == nodes
    page = answer.content.decode()
    assert "The hold “Litigation 2026-14” is on all 3 documents" in page
    assert 'data-hold="Litigation 2026-14"' in page
    assert AuditEvent.objects.filter(
        event_type="records.hold_applied", business_object="V-300"
    ).exists()

    # when: another document is filed while the hold lasts; the hold again
    file_all(systems, admin_user, "insurance")
    client_for(carl).post(
        f"/workspaces/{workspace.pk}/holds/", {"name": "Litigation 2026-14"}
    )

    # then: it is held too, and nothing was held twice
    nodes = set(WorkspaceDocument.objects.values_list("ecm_node_id", flat=True))
    assert set(held.values_list("node_id", flat=True)) == nodes
    assert held.count() == 4
    assert workspace.holds.count() == 1

    # and a reviewer may not apply holds
    reviewer = UserFactory(username="rita", role=roles.REVIEWER)
    refused = client_for(reviewer).post(
        f"/workspaces/{workspace.pk}/holds/", {"name": "Another"}
    )
    assert refused.status_code == 403
    hold = workspace.holds.get()
    assert (
        client_for(reviewer)
        .post(f"/workspaces/{workspace.pk}/holds/{hold.pk}/release/")
        .status_code
        == 403
    )

    # when: compliance releases the hold, once the dispute is settled
    released = client_for(carl).post(
        f"/workspaces/{workspace.pk}/holds/{hold.pk}/release/",
        {"comment": "Dispute settled"},
        follow=True,
    )

    # then: no document is held any more in Content Server, the workspace
    # keeps the hold as released, and the trail has the release
    assert not held.exists()
    hold.refresh_from_db()
    assert hold.released_at is not None
    page = released.content.decode()
    assert "The hold “Litigation 2026-14” is released" in page
    assert '<span class="badge bg-red-lt">Active</span>' not in page
    event = AuditEvent.objects.get(event_type="records.hold_released")
    assert event.payload["comment"] == "Dispute settled"
    assert event.actor_name == "carl"
    # and releasing it again changes nothing
    client_for(carl).post(f"/workspaces/{workspace.pk}/holds/{hold.pk}/release/")
    assert AuditEvent.objects.filter(event_type="records.hold_released").count() == 1


def test_business_applications_read_the_approved_version_only(
    systems, supplier, admin_user, woken, client
):
    # given: an approved tax form and a contract that waits for approval
    file_all(systems, admin_user, "tax_form", "signed_contract")
    tax = WorkspaceDocument.objects.get(document_type="tax_form")
    reader = client_for(UserFactory(username="rita", role=roles.REVIEWER))
    url = "/workspaces/documents/?type=supplier&key=V-300&document="

    # when
    answer = reader.get(url + "tax_form")
    metadata = reader.get(url + "tax_form&metadata=1").json()
    waiting = reader.get(url + "signed_contract")
    viewer = client_for(UserFactory(username="vera", role=roles.VIEWER))
    forbidden = viewer.get(url + "tax_form")
    anonymous = client.get(url + "tax_form")

    # then: the content streamed from Content Server is the filed version
    assert answer.status_code == 200
    content = b"".join(answer.streaming_content)
    assert hashlib.sha256(content).hexdigest() == tax.sha256
    assert answer["X-Document-SHA256"] == tax.sha256
    assert answer["X-Document-Version"] == "1"
    assert answer["Content-Disposition"] == 'attachment; filename="tax_form.pdf"'
    assert metadata["document"] == {
        "type": "tax_form",
        "name": "tax_form.pdf",
        "node_id": tax.ecm_node_id,
        "version": 1,
        "sha256": tax.sha256,
        "size": tax.size,
        "status": "approved",
        "valid_until": None,
        "filed_at": tax.filed_at.isoformat(),
    }
    assert (waiting.status_code, waiting.json()) == (
        404,
        {
            "error": "no_approved_document",
            "message": "“Litware” has no approved signed contract.",
        },
    )
    assert (forbidden.status_code, forbidden.json()["error"]) == (403, "forbidden")
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "not_signed_in")
    # and each access (and the refusal) is in the audit trail
    accessed = AuditEvent.objects.filter(event_type="document.accessed")
    assert list(accessed.order_by("sequence").values_list("summary", flat=True)) == [
        "rita read tax_form.pdf",
        "rita metadata of tax_form.pdf",
        "vera refused: tax_form of V-300",
    ]
    assert accessed.order_by("sequence").first().document_sha256 == tax.sha256
