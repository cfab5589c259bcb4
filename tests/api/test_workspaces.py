"""Workspaces through the API: the list with search, one workspace with its
checklist, documents and holds; and document access for programs with an
API token: the approved version's bytes from the Content Server emulator,
refusals audited, per role."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent, EventType
from tests.api.conftest import assert_error, client_with_token
from tests.factories import UserFactory
from tests.workspaces.conftest import supplier  # noqa: F401 (a fixture)
from tests.workspaces.test_records_and_access import VENDOR, file_all
from workspaces import records
from workspaces import services as workspaces
from workspaces.models import Workspace, WorkspaceDocument

pytestmark = pytest.mark.django_db(transaction=True)
ACCESS = "/api/v1/documents/?type=supplier&key=V-300&document="


@pytest.fixture
def filed(systems, supplier, admin_user, woken) -> Workspace:  # noqa: F811
    """Supplier V-300 (Litware) with an approved tax form and a signed
    contract that waits for approval; bank details and insurance missing."""
    file_all(systems, admin_user, "tax_form", "signed_contract")
    return Workspace.objects.get(business_key=VENDOR["vendor"])


def test_a_viewer_finds_workspaces_by_key_name_and_type(api, filed):
    # given: a second workspace, of another type
    other, _ = workspaces.find_or_create(
        workspaces.workspace_type("supplier"), "V-301", name="Fabrikam"
    )

    # when
    everything = api["viewer"].get("/api/v1/workspaces/")
    by_key = api["viewer"].get("/api/v1/workspaces/", {"q": "v-300"})
    by_name = api["viewer"].get("/api/v1/workspaces/", {"q": "fabri"})
    by_type = api["viewer"].get("/api/v1/workspaces/", {"type": "customer"})

    # then: newest change first, each with its checklist counts, never a count
    assert everything.status_code == 200
    body = everything.json()
    assert set(body) == {"next", "previous", "results"}
    assert [w["business_key"] for w in body["results"]] == ["V-301", "V-300"]
    litware = body["results"][1]
    assert litware == {
        "id": filed.pk,
        "type": "supplier",
        "type_name": "Supplier",
        "business_key": "V-300",
        "name": "Litware",
        "ecm_node_id": filed.ecm_node_id,
        "checklist": {"done": 1, "total": 4, "complete": False, "summary": "1 of 4"},
        "created_at": litware["created_at"],
        "updated_at": litware["updated_at"],
        "completed_at": None,
        "synced_at": None,
    }
    assert filed.ecm_node_id is not None
    assert [w["id"] for w in by_key.json()["results"]] == [filed.pk]
    assert [w["id"] for w in by_name.json()["results"]] == [other.pk]
    assert by_type.json()["results"] == []


@pytest.mark.usefixtures("supplier")
def test_workspaces_come_in_keyset_pages(api):
    # given: five workspaces (Content Server emulator behind each)
    wtype = workspaces.workspace_type("supplier")
    keys = [f"V-{n}" for n in range(5)]
    for key in keys:
        workspaces.find_or_create(wtype, key)

    # when: pages of two, following the cursor
    seen, url = [], "/api/v1/workspaces/?page_size=2"
    while url:
        page = api["viewer"].get(url).json()
        assert len(page["results"]) <= 2
        seen += [w["business_key"] for w in page["results"]]
        url = page["next"]

    # then: every workspace once, most recently changed first
    assert seen == list(reversed(keys))


def test_one_workspace_shows_its_checklist_documents_links_and_holds(api, filed):
    # given: an auditor's hold on its documents, and its Dynamics record
    auditor = UserFactory(username="carl")
    records.apply_hold(filed, "Litigation 2026-14", auditor, "Supplier dispute")
    filed.links.create(system="dynamics", object_type="vendor", object_id="V-300")
    tax = WorkspaceDocument.objects.get(document_type="tax_form")
    contract = WorkspaceDocument.objects.get(document_type="signed_contract")

    # when
    answer = api["reviewer"].get(f"/api/v1/workspaces/{filed.pk}/")

    # then
    assert answer.status_code == 200
    body = answer.json()
    checklist = body["checklist"]
    assert (checklist["done"], checklist["total"], checklist["summary"]) == (
        1,
        4,
        "1 of 4",
    )
    assert [
        (i["document_type"], i["label"], i["state"], i["document"])
        for i in checklist["items"]
    ] == [
        ("tax_form", "Tax form", "present", tax.pk),
        ("bank_details", "Bank details", "missing", None),
        ("insurance", "Insurance certificate", "missing", None),
        ("signed_contract", "Signed contract", "awaiting_approval", contract.pk),
    ]
    assert checklist["items"][3]["needs_approval"] is True
    assert checklist["items"][2]["valid_days"] == 365
    assert body["links"] == [
        {"system": "dynamics", "object_type": "vendor", "object_id": "V-300"}
    ]
    documents = {d["document_type"]: d for d in body["documents"]}
    assert documents["tax_form"] == {
        "id": tax.pk,
        "document_type": "tax_form",
        "type_label": "Tax form",
        "name": "tax_form.pdf",
        "version": 1,
        "status": "approved",
        "sha256": tax.sha256,
        "size": tax.size,
        "valid_until": None,
        "filed_at": documents["tax_form"]["filed_at"],
        "ecm_node_id": tax.ecm_node_id,
        "run": tax.run_id,
        "transfer": tax.transfer_id,
    }
    assert len(tax.sha256) == 64
    assert documents["signed_contract"]["status"] == "awaiting_approval"
    [hold] = body["holds"]
    assert (hold["name"], hold["comment"], hold["applied_by"], hold["nodes"]) == (
        "Litigation 2026-14",
        "Supplier dispute",
        "carl",
        2,
    )
    assert hold["active"] is True and hold["released_at"] is None


def test_a_workspaces_documents_in_pages_and_by_status(api, filed):
    url = f"/api/v1/workspaces/{filed.pk}/documents/"

    every = api["viewer"].get(url)
    approved = api["viewer"].get(url, {"status": "approved"})
    contracts = api["viewer"].get(url, {"document_type": "signed_contract"})

    assert every.status_code == 200
    newest_first = WorkspaceDocument.objects.order_by("-filed_at", "-pk")
    assert [d["id"] for d in every.json()["results"]] == [d.pk for d in newest_first]
    assert len(newest_first) == 2
    assert [d["document_type"] for d in approved.json()["results"]] == ["tax_form"]
    assert [d["status"] for d in contracts.json()["results"]] == ["awaiting_approval"]
    for status in ("lost", ""):
        body = assert_error(api["viewer"].get(url, {"status": status}), 400, "invalid")
        assert list(body["fields"]) == ["status"]


def test_who_may_read_workspaces(api, filed):
    nobody = client_with_token(UserFactory(username="nobody"))  # no role
    for role in ("admin", "reviewer", "auditor", "viewer"):
        assert api[role].get("/api/v1/workspaces/").status_code == 200
        assert api[role].get(f"/api/v1/workspaces/{filed.pk}/").status_code == 200
    for url in (
        "/api/v1/workspaces/",
        f"/api/v1/workspaces/{filed.pk}/",
        f"/api/v1/workspaces/{filed.pk}/documents/",
    ):
        assert_error(nobody.get(url), 403, "permission_denied")
        assert_error(api["anonymous"].get(url), 401, "not_authenticated")


def test_unknown_workspaces_and_bad_filters(api, filed):
    viewer = api["viewer"]
    assert_error(viewer.get("/api/v1/workspaces/999999/"), 404, "not_found")
    assert_error(viewer.get("/api/v1/workspaces/999999/documents/"), 404, "not_found")
    assert_error(viewer.get("/api/v1/workspaces/abc/"), 404, "not_found")
    long = assert_error(
        viewer.get("/api/v1/workspaces/", {"q": "x" * 301}), 400, "invalid"
    )
    assert list(long["fields"]) == ["q"]
    bad_type = assert_error(
        viewer.get("/api/v1/workspaces/", {"type": "not a key"}), 400, "invalid"
    )
    assert list(bad_type["fields"]) == ["type"]


# --- Document access -------------------------------------------------------------


def test_a_program_reads_the_approved_version_with_a_token(api, filed):
    tax = WorkspaceDocument.objects.get(document_type="tax_form")
    reader = api["reviewer"]  # the role business applications get

    # when
    answer = reader.get(ACCESS + "tax_form")
    as_pdf = reader.get(ACCESS + "tax_form", HTTP_ACCEPT="application/pdf")
    metadata = reader.get(ACCESS + "tax_form&metadata=true")

    # then: the bytes Content Server holds for the filed version
    assert answer.status_code == 200
    content = b"".join(answer.streaming_content)
    assert hashlib.sha256(content).hexdigest() == tax.sha256
    assert answer["X-Document-SHA256"] == tax.sha256
    assert answer["X-Document-Version"] == "1"
    assert answer["X-Document-Node"] == str(tax.ecm_node_id)
    assert answer["Content-Disposition"] == 'attachment; filename="tax_form.pdf"'
    assert as_pdf.status_code == 200
    assert hashlib.sha256(b"".join(as_pdf.streaming_content)).hexdigest() == (
        tax.sha256
    )
    assert metadata.status_code == 200
    assert metadata["Content-Type"] == "application/json"
    assert metadata.json() == {
        "workspace": {
            "type": "supplier",
            "business_key": "V-300",
            "name": "Litware",
            "node_id": filed.ecm_node_id,
        },
        "document": {
            "type": "tax_form",
            "name": "tax_form.pdf",
            "node_id": tax.ecm_node_id,
            "version": 1,
            "sha256": tax.sha256,
            "size": tax.size,
            "status": "approved",
            "valid_until": None,
            "filed_at": tax.filed_at.isoformat(),
        },
    }
    # and every access is in the trail, with the document's hash
    accessed = AuditEvent.objects.filter(event_type=EventType.DOCUMENT_ACCESSED)
    assert [
        (e.summary, e.actor_name, e.document_sha256, e.payload)
        for e in accessed.order_by("sequence")
    ] == [
        ("rita read tax_form.pdf", "rita", tax.sha256, {"refused": False}),
        ("rita read tax_form.pdf", "rita", tax.sha256, {"refused": False}),
        ("rita metadata of tax_form.pdf", "rita", tax.sha256, {"refused": False}),
    ]


def test_a_viewer_is_refused_and_the_refusal_is_audited(api, filed):
    refused = api["viewer"].get(ACCESS + "tax_form", HTTP_ACCEPT="application/pdf")
    anonymous = api["anonymous"].get(ACCESS + "tax_form")

    body = assert_error(refused, 403, "permission_denied")
    assert refused["Content-Type"] == "application/json"
    assert body["message"] == "You may not read documents: ask for the permission."
    assert_error(anonymous, 401, "not_authenticated")
    event = AuditEvent.objects.get(event_type=EventType.DOCUMENT_ACCESSED)
    assert (event.summary, event.payload, event.business_object) == (
        "vic refused: tax_form of V-300",
        {"refused": True},
        "V-300",
    )


def test_no_document_to_give_is_said_with_its_reason(api, filed):
    reader = api["auditor"]
    tax = WorkspaceDocument.objects.get(document_type="tax_form")

    waiting = reader.get(ACCESS + "signed_contract")
    missing = reader.get(ACCESS + "bank_details")
    unknown = reader.get("/api/v1/documents/?type=supplier&key=V-999&document=x")
    spaces = reader.get("/api/v1/documents/", {**GOOD, "key": "   "})
    WorkspaceDocument.objects.filter(pk=tax.pk).update(
        valid_until=timezone.localdate() - timedelta(days=1)
    )
    expired = reader.get(ACCESS + "tax_form")

    assert assert_error(waiting, 404, "no_approved_document")["message"] == (
        "“Litware” has no approved signed contract."
    )
    assert assert_error(missing, 404, "no_approved_document")
    assert assert_error(unknown, 404, "no_workspace")["message"] == (
        "There is no supplier workspace “V-999”."
    )
    assert_error(spaces, 404, "no_workspace")
    assert assert_error(expired, 404, "expired")["message"].startswith(
        "The tax form of “Litware” expired on "
    )
    # nothing was read, so nothing is in the trail
    assert not AuditEvent.objects.filter(event_type=EventType.DOCUMENT_ACCESSED)


GOOD = {"type": "supplier", "key": "V-300", "document": "tax_form"}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({}, ["type", "key", "document"]),
        ({"type": "supplier", "key": "V-300"}, ["document"]),
        ({**GOOD, "type": "sup plier"}, ["type"]),
        ({**GOOD, "metadata": "maybe"}, ["metadata"]),
        ({**GOOD, "key": "K" * 301}, ["key"]),
    ],
)
def test_document_access_names_each_bad_parameter(api, query: Any, fields: Any):
    answer = api["reviewer"].get("/api/v1/documents/", query)

    body = assert_error(answer, 400, "invalid")
    assert list(body["fields"]) == fields
