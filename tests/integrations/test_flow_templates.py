"""Flow templates: the gallery, "Use template", and each template run end
to end against the emulators, as the flow it creates."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.services import Actor
from connectors import services as connection_services
from connectors.base import ActionContext
from connectors.sandbox.models import (
    OtcsCategoryValue,
    OtcsNode,
    OtcsNodeHold,
    OtcsRmClassification,
    OtcsWorkspaceReference,
)
from integrations import flow_templates, reviews, services
from integrations.engine.connections import connector_for
from integrations.flow_templates import TemplateError
from integrations.models import Flow, FlowRun, ReviewTask, RunStatus, TaskKind
from tests.factories import UserFactory
from tests.integrations.flows import account_event, account_id, deliver, drain
from xconnector import roles


def use(key: str, user: Any, **connections: Any) -> Flow:
    return flow_templates.instantiate(key, connections, user)


# The template keys of USE_CASES.md (the ids in brackets), in its order.
USE_CASE_KEYS = [
    "capture-to-ecm", "exstream-archive", "workspace-on-create", "contract-sync",
    "metadata-sync", "evidence-checklist", "transaction-docs", "document-access",
    "event-to-communication", "case-correspondence", "communication-approval",
    "channel-routing", "delivery-feedback", "governed-content", "partner-case",
    "po-exception", "partner-contract", "shipment-issue", "supplier-onboarding",
    "quality-incident", "order-reconciliation", "deal-approval",
]  # fmt: skip


def test_every_use_case_has_its_template():
    keys = [template.key for template in flow_templates.all_templates()]

    assert sorted(keys) == sorted(USE_CASE_KEYS)
    assert len(set(keys)) == len(keys)


def test_the_gallery_shows_every_template_with_its_systems(admin_client):
    page = admin_client.get("/flows/templates/").content.decode()

    for template in flow_templates.all_templates():
        assert f'data-template="{template.key}"' in page
        assert f'href="/flows/templates/{template.key}/"' in page
    assert "Content Server" in page and "Dynamics 365" in page
    assert "When a webhook arrives" in page  # the picture's trigger box


def test_only_integration_admins_create_flows_from_templates(db):
    reviewer = Client()
    reviewer.force_login(UserFactory(username="rita", role=roles.REVIEWER))

    assert reviewer.get("/flows/templates/").status_code == 403
    assert reviewer.post("/flows/templates/deal-approval/").status_code == 403
    assert not Flow.objects.exists()


def test_use_template_asks_for_its_connections_and_creates_a_working_flow(
    systems, admin_client
):
    page = admin_client.get("/flows/templates/capture-to-ecm/").content.decode()
    assert 'name="slot-events"' in page and 'name="slot-ecm"' in page

    # a connection of the wrong kind is refused, in words, and nothing is made
    wrong = admin_client.post(
        "/flows/templates/capture-to-ecm/",
        {
            "name": "Billing documents",
            "slot-events": systems.hook.pk,
            "slot-source": systems.otcs.pk,
            "slot-ecm": systems.otcs.pk,
            "activate": "on",
        },
    )
    assert wrong.status_code == 400
    label = flow_templates.get("capture-to-ecm").slots[1].connector_label
    assert f"“Content Server” is not a {label} connection." in wrong.content.decode()
    assert not Flow.objects.exists()

    made = admin_client.post(
        "/flows/templates/capture-to-ecm/",
        {
            "name": "Billing documents",
            "slot-events": systems.hook.pk,
            "slot-source": systems.orders.pk,
            "slot-ecm": systems.otcs.pk,
            "activate": "on",
        },
    )

    flow = Flow.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/flows/{flow.pk}/"
    assert (flow.name, flow.status) == ("Billing documents", "active")
    assert flow.published_version.note == (
        "From the template “Operational documents to governed records”"
    )
    assert flow.template_key == "capture-to-ecm"
    # "Run now" on its page starts from the template's sample
    flow_page = admin_client.get(made["Location"]).content.decode()
    assert "&quot;number&quot;: &quot;INV-1001&quot;" in flow_page
    # the same name again is refused
    again = admin_client.post(
        "/flows/templates/capture-to-ecm/",
        {
            "name": "Billing documents",
            "slot-events": systems.hook.pk,
            "slot-source": systems.orders.pk,
            "slot-ecm": systems.otcs.pk,
        },
    )
    assert again.status_code == 400
    assert "A flow called “Billing documents” exists already" in (
        again.content.decode()
    )


def test_a_template_without_its_connections_is_refused(admin_user):
    with pytest.raises(TemplateError) as refused:
        flow_templates.instantiate("deal-approval", {}, admin_user)
    assert refused.value.errors == {"crm": "Choose the Dynamics 365 connection."}


# --- Each template, end to end ---------------------------------------------------


def document_event(message: str, number: str, kind: str, **more: Any) -> dict:
    """What the operational system posts: a document is ready."""
    return {
        "MessageId": message,
        "system": "Billing",
        "type": kind,
        "number": number,
        "path": f"documents/{number}.txt",
        **more,
    }


def test_capture_to_ecm_files_by_type_once_with_retention_and_hold(
    systems, admin_user, woken
):
    flow = use(
        "capture-to-ecm",
        admin_user,
        events=systems.hook,
        source=systems.orders,
        ecm=systems.otcs,
    )

    first = deliver(systems, flow, document_event("m-1", "INV-1001", "invoice"))
    assert first.status_code == 202
    # the billing system sends the same invoice again, in a new message
    again = deliver(systems, flow, document_event("m-2", "INV-1001", "invoice"))
    assert again.status_code == 202
    claim = document_event("m-3", "CLM-77", "claim", legal_hold=True, case="2026-14")
    deliver(systems, flow, claim)
    drain()

    assert set(FlowRun.objects.values_list("status", flat=True)) == {
        RunStatus.SUCCEEDED
    }
    invoice = OtcsNode.objects.get(name="INV-1001.txt")
    assert (invoice.parent.name, invoice.parent.parent.name) == ("Invoices", "Finance")
    values = OtcsCategoryValue.objects.get(node=invoice, category_id=9830).values
    assert values["9830_2"] == "INV-1001"
    assert OtcsRmClassification.objects.get(node=invoice).classification_id == 2202
    assert not OtcsNodeHold.objects.filter(node=invoice).exists()
    claim = OtcsNode.objects.get(name="CLM-77.txt")
    assert claim.parent.name == "Claims"
    assert OtcsRmClassification.objects.get(node=claim).classification_id == 2203
    assert OtcsNodeHold.objects.get(node=claim).hold.name == "Case 2026-14"
    # the same document twice is one record
    assert OtcsNode.objects.filter(name="INV-1001.txt").count() == 1


def test_workspace_on_create_makes_one_workspace_per_record(systems, admin_user, woken):
    flow = use("workspace-on-create", admin_user, events=systems.hook, ecm=systems.otcs)

    for message in ("m-1", "m-2", "m-3"):  # re-deliveries with new message ids
        assert deliver(systems, flow, account_event(7, message=message)).ok
    drain()

    assert set(FlowRun.objects.values_list("status", flat=True)) == {
        RunStatus.SUCCEEDED
    }
    reference = OtcsWorkspaceReference.objects.get(bo_id=account_id(7))
    assert (reference.ext_system_id, reference.bo_type) == ("D365", "account")
    assert reference.workspace.node.name == "Customer 7"
    assert OtcsNode.objects.filter(name="Customer 7").count() == 1


def test_order_reconciliation_matches_and_asks_about_a_difference(
    systems, admin_user, woken
):
    flow = use("order-reconciliation", admin_user, orders=systems.orders)
    reviewer = UserFactory(username="rita", role=roles.REVIEWER)

    fine, _ = services.start_run(
        flow, {"order": "ORD-1002", "total": "157.30", "currency": "EUR"}, admin_user
    )
    short, _ = services.start_run(
        flow, {"order": "ORD-1002", "total": "150.00", "currency": "EUR"}, admin_user
    )
    drain()

    fine.refresh_from_db()
    short.refresh_from_db()
    assert fine.status == RunStatus.SUCCEEDED, fine.error
    assert short.status == RunStatus.WAITING
    task = ReviewTask.objects.get(run=short)
    assert task.kind == TaskKind.RECONCILIATION
    assert task.reason == "Total: expected “157.00”, found “150.00” (7 less)"
    reviews.reject(task, reviewer, "Short delivery: 7.00 missing")
    drain()
    short.refresh_from_db()
    assert short.status == RunStatus.SUCCEEDED, short.error
    assert short.context["steps"]["dispute"]["body"]["json"] == {
        "order": "ORD-1002",
        "disputed": "Short delivery: 7.00 missing",
    }


def test_deal_approval_sends_the_decision_back_to_the_opportunity(
    dynamics, admin_user, woken
):
    crm = connector_for(dynamics.pk)[1]
    deal, _ = crm.run_action(
        "create",
        {
            "entity_set": "opportunities",
            "values": {"name": "Contoso renewal", "estimatedvalue": 120000},
        },
        ActionContext(idempotency_key="test-deal"),
    )
    flow = use("deal-approval", admin_user, crm=dynamics)
    reviewer = UserFactory(username="rita", role=roles.REVIEWER)

    run, _ = services.start_run(
        flow,
        {"opportunity": deal["id"], "discount": 15, "justification": "3 years"},
        admin_user,
    )
    drain()
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING
    task = ReviewTask.objects.get(run=run)
    assert (task.kind, task.title) == (TaskKind.APPROVAL, "Approve a special discount")
    assert task.business_object == f"opportunity:{deal['id']}"

    reviews.approve(task, reviewer, "Within the renewal policy")
    drain()

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    notes, _ = crm.run_action(
        "query",
        {
            "entity_set": "annotations",
            "filter": f"_objectid_value eq {deal['id']}",
        },
        ActionContext(idempotency_key="test-notes"),
    )
    (note,) = notes["records"]
    assert note["subject"] == "Discount decision"
    assert note["notetext"] == (
        "Discount of 15% approved by rita: Within the renewal policy"
    )


def test_metadata_sync_keeps_each_changed_account_in_step(
    systems, dynamics, admin_user, woken
):
    from integrations import triggers
    from workspaces.models import Workspace, WorkspaceType

    flow = use("metadata-sync", admin_user, crm=dynamics, ecm=systems.otcs)

    # the customer type it needs was made on the chosen connections
    customer = WorkspaceType.objects.get(key="customer")
    assert (customer.connection, customer.system_connection) == (
        systems.otcs,
        dynamics,
    )
    assert list(customer.sync_rules.values_list("label", flat=True)) == [
        "Name",
        "Account number",
        "City",
        "Telephone",
    ]

    # the first poll reports the three accounts of the emulator
    assert triggers.poll(flow.pk) == 3
    drain()
    assert set(FlowRun.objects.values_list("status", flat=True)) == {
        RunStatus.SUCCEEDED
    }
    contoso = Workspace.objects.get(business_key="A1")
    values = OtcsCategoryValue.objects.get(node_id=contoso.ecm_node_id).values
    assert (values["9832_2"], values["9832_4"]) == ("Contoso Ltd", "Seattle")

    # a city changed in Dynamics reaches the workspace at the next poll
    connector_for(dynamics.pk)[1].run_action(
        "update",
        {
            "entity_set": "accounts",
            "id": "aaaaaaaa-0000-4000-8000-000000000001",
            "values": {"address1_city": "Redmond"},
        },
        ActionContext(idempotency_key="test-city"),
    )
    assert triggers.poll(flow.pk) == 1
    drain()
    values = OtcsCategoryValue.objects.get(node_id=contoso.ecm_node_id).values
    assert values["9832_4"] == "Redmond"
    assert Workspace.objects.filter(workspace_type=customer).count() == 3


def test_evidence_checklist_tells_dynamics_once_everything_is_approved(
    systems, dynamics, admin_user, woken
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workspaces import services as workspaces
    from workspaces.follow_up import follow_up

    fabrikam = "aaaaaaaa-0000-4000-8000-000000000002"
    use("evidence-checklist", admin_user, crm=dynamics, ecm=systems.otcs)
    supplier = workspaces.workspace_type("supplier")
    workspace, _ = workspaces.find_or_create(
        supplier, "V-2", name="Fabrikam", links=[("dynamics", "accounts", fabrikam)]
    )
    follow_up(workspace)
    rita = UserFactory(username="rita", role=roles.REVIEWER)
    rob = UserFactory(username="rob", role=roles.REVIEWER)

    # reviewers upload the four documents; another approves the contract
    for task in ReviewTask.objects.filter(kind=TaskKind.MISSING_DOCUMENT):
        upload = SimpleUploadedFile(
            f"{task.document_type}.pdf", b"%PDF-1.4 evidence", "application/pdf"
        )
        reviews.resolve_with_document(task, rita, upload)
    assert not FlowRun.objects.exists()  # the contract waits for approval
    reviews.approve(ReviewTask.objects.get(kind=TaskKind.APPROVAL), rob)
    drain()

    (run,) = FlowRun.objects.all()
    assert run.status == RunStatus.SUCCEEDED, run.error
    account, _ = connector_for(dynamics.pk)[1].run_action(
        "get",
        {"entity_set": "accounts", "id": fabrikam},
        ActionContext(idempotency_key="test-read"),
    )
    assert account["record"]["description"] == (
        "Onboarding evidence complete: bank_details, insurance, signed_contract, "
        "tax_form"
    )


def test_event_to_communication_generates_and_files_the_welcome_letter(
    systems, dynamics, live_server, admin_user, woken
):
    import hashlib

    from connectors.otcs.emulator.state import blob_dir
    from connectors.sandbox.models import OtcsVersion
    from tests.connectors.exstream.contract import exstream_case

    settings, secrets = exstream_case(live_server)
    exstream = connection_services.create_connection(
        Actor.user(admin_user),
        connector_key="exstream",
        name="Exstream",
        settings=settings,
        secrets=secrets,
    )
    flow = use(
        "event-to-communication",
        admin_user,
        events=systems.hook,
        crm=dynamics,
        exstream=exstream,
        ecm=systems.otcs,
    )
    contoso = "aaaaaaaa-0000-4000-8000-000000000001"
    event = {"MessageId": "m-1", "MessageName": "Create", "PrimaryEntityId": contoso}

    assert deliver(systems, flow, event).status_code == 202
    assert deliver(systems, flow, {**event, "MessageId": "m-2"}).status_code == 202
    drain()

    assert set(FlowRun.objects.values_list("status", flat=True)) == {
        RunStatus.SUCCEEDED
    }, list(FlowRun.objects.values_list("error", flat=True))
    letter = OtcsNode.objects.get(name="welcome-A1.pdf")  # once, for two events
    assert letter.parent.name == "Contoso Ltd"
    assert letter.parent.parent.name == "Customer communications"
    version = OtcsVersion.objects.get(node=letter)
    stored = (blob_dir() / version.blob).read_bytes()
    assert version.mime_type == "application/pdf" and stored.startswith(b"%PDF")
    run = FlowRun.objects.order_by("pk").first()
    assert (
        run.context["steps"]["letter"]["sha256"] == hashlib.sha256(stored).hexdigest()
    )
