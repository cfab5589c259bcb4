"""The customer-communication templates (and the communications archive),
each run end to end against the emulators as the flow it creates."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from audit.services import Actor
from connectors import services as connection_services
from connectors.base import ActionContext, Document
from connectors.exstream.emulator.state import INVOICE_LETTER, WELCOME_LETTER
from connectors.exstream.sandbox.models import ExstreamCommunication
from connectors.models import OutboxMessage
from connectors.sandbox.models import (
    OtcsCategoryValue,
    OtcsNode,
    OtcsRmClassification,
)
from integrations import flow_templates, reviews, services
from integrations.engine.connections import connector_for
from integrations.models import Flow, FlowRun, ReviewTask, RunStatus, TaskKind
from tests.connectors.exstream.contract import exstream_case
from tests.factories import UserFactory
from tests.integrations.flows import deliver, drain
from workspaces.models import Workspace, WorkspaceDocument
from xconnector import roles

EVENT_SECRET = "exstream-events-for-tests"


@pytest.fixture
def exstream(live_server, systems, admin_user) -> Any:
    values, secrets = exstream_case(live_server)
    return connection_services.create_connection(
        Actor.user(admin_user),
        connector_key="exstream",
        name="Exstream",
        settings=values,
        secrets={**secrets, "webhook_secret": EVENT_SECRET},
    )


@pytest.fixture
def outbox(systems, admin_user) -> Any:
    return connection_services.create_connection(
        Actor.user(admin_user),
        connector_key="email",
        name="Customer mail",
        settings={"mode": "outbox", "from_address": "billing@acme.example"},
        secrets={},
    )


def use(key: str, user: Any, **connections: Any) -> Flow:
    return flow_templates.instantiate(key, connections, user)


def statuses() -> set[str]:
    return set(FlowRun.objects.values_list("status", flat=True))


def errors() -> list[str]:
    return list(FlowRun.objects.values_list("error", flat=True))


def test_exstream_archive_files_each_statement_once_with_its_metadata(
    systems, exstream, admin_user, woken
):
    flow = use(
        "exstream-archive", admin_user, events=systems.hook, exstream=exstream,
        ecm=systems.otcs,
    )  # fmt: skip
    event = {**flow_templates.get("exstream-archive").sample["body"]}
    event["delivery_date"] = "2026-12-01"

    assert deliver(systems, flow, event).status_code == 202
    # billing sends the same statement again, in a new message
    assert deliver(systems, flow, {**event, "MessageId": "m-2"}).status_code == 202
    drain()

    assert statuses() == {RunStatus.SUCCEEDED}, errors()
    statement = OtcsNode.objects.get(name="statement-ST-2026-11-1001.pdf")
    assert statement.parent.name == "Contoso Ltd"
    assert statement.parent.parent.name == "Customer communications"
    values = OtcsCategoryValue.objects.get(node=statement, category_id=9833).values
    assert {k: v for k, v in values.items() if v} == {
        "9833_2": "C-1001",
        "9833_3": "Contoso Ltd",
        "9833_4": "Statement",
        "9833_5": "2026-12-01",
        "9833_6": "EMAIL",
        "9833_7": "Business",
        "9833_8": "Fleet",
        "9833_9": "DE",
        "9833_10": "de",
    }
    rm = OtcsRmClassification.objects.get(node=statement)
    assert rm.classification_id == 2202


def test_case_correspondence_files_the_decision_letter_in_the_case(
    systems, exstream, admin_user, woken
):
    flow = use(
        "case-correspondence", admin_user, events=systems.hook, exstream=exstream,
        ecm=systems.otcs,
    )  # fmt: skip
    decision = {
        "MessageId": "wf-1",
        "case": {"number": "CL-14", "customer": "Contoso Ltd"},
        "decision": "missing_information",
    }

    assert deliver(systems, flow, decision).status_code == 202
    drain()

    assert statuses() == {RunStatus.SUCCEEDED}, errors()
    case = Workspace.objects.get(workspace_type__key="case", business_key="CL-14")
    assert case.name == "Case CL-14 Contoso Ltd"
    letter = OtcsNode.objects.get(name="decision-CL-14-missing_information.pdf")
    assert letter.parent.name == "Correspondence"
    assert letter.parent.parent_id == case.ecm_node_id
    filed = WorkspaceDocument.objects.get(workspace=case)
    assert (filed.document_type, filed.ecm_node_id) == ("correspondence", letter.pk)
    run = FlowRun.objects.get()
    assert run.context["steps"]["letter"]["file_name"] == (
        "decision-CL-14-missing_information.pdf"
    )


def test_communication_approval_releases_or_sends_back_with_the_comment(
    systems, exstream, outbox, admin_user, woken
):
    flow = use("communication-approval", admin_user, exstream=exstream, email=outbox)
    reviewer = UserFactory(username="rita", role=roles.REVIEWER)
    # the invoice letter's closing was changed and submitted for review
    connector_for(exstream.pk)[1].run_action(
        "update_content_block",
        {
            "communication_id": str(INVOICE_LETTER),
            "block": "closing",
            "content": "Yours sincerely,\nAcme Billing",
            "submit_for_review": True,
        },
        ActionContext(idempotency_key="test-change"),
    )

    renewal, _ = services.start_run(
        flow, {"communication": "Contract renewal", "author": "ed@acme.example"},
        admin_user,
    )  # fmt: skip
    invoice, _ = services.start_run(
        flow, {"communication": "Invoice letter", "author": "ed@acme.example"},
        admin_user,
    )  # fmt: skip
    welcome, _ = services.start_run(
        flow, {"communication": "Welcome letter", "author": "ed@acme.example"},
        admin_user,
    )  # fmt: skip
    drain()

    # a communication that is not in review is refused, in words
    welcome.refresh_from_db()
    assert welcome.status == RunStatus.NEEDS_REVIEW
    assert "is not in review in Exstream" in welcome.error
    tasks = ReviewTask.objects.filter(kind=TaskKind.APPROVAL)
    assert tasks.count() == 2
    reviews.approve(tasks.get(run=renewal), reviewer, "Disclosures are complete")
    reviews.reject(tasks.get(run=invoice), reviewer, "Keep the legal footer")
    drain()

    renewal.refresh_from_db()
    invoice.refresh_from_db()
    assert (renewal.status, invoice.status) == (RunStatus.SUCCEEDED,) * 2, errors()
    states = dict(ExstreamCommunication.objects.values_list("name", "state"))
    assert states["Contract renewal"] == "APPROVED"
    assert states["Invoice letter"] == "REJECTED"
    (mail,) = OutboxMessage.objects.all()
    assert (mail.to, mail.subject) == (
        ["ed@acme.example"],
        "Changes needed: Invoice letter",
    )
    assert mail.body_text == (
        "Your change to Invoice letter was sent back by rita:\n\nKeep the legal footer"
    )


def test_channel_routing_sends_each_invoice_the_way_the_rules_say(
    systems, exstream, outbox, admin_user, settings, tmp_path, woken
):
    settings.XCONNECTOR_FILES_ROOT = tmp_path / "files"
    (tmp_path / "files" / "print").mkdir(parents=True)
    printer = connection_services.create_connection(
        Actor.user(admin_user),
        connector_key="files",
        name="Print provider",
        settings={"folder": "print"},
        secrets={},
    )
    flow = use(
        "channel-routing", admin_user, events=systems.hook, exstream=exstream,
        email=outbox, print=printer, sms=systems.orders, ecm=systems.otcs,
    )  # fmt: skip
    sample = flow_templates.get("channel-routing").sample["body"]

    def invoice(number: str, channel: str, kind: str = "invoice") -> dict:
        customer = {**sample["customer"], "preferred_channel": channel}
        return {
            **sample,
            "MessageId": number,
            "document_type": kind,
            "customer": customer,
            "invoice": {**sample["invoice"], "number": number},
        }

    for event in (
        invoice("INV-1", "email", kind="legal_notice"),  # paper, whatever wanted
        invoice("INV-2", "email"),
        invoice("INV-3", "sms"),
        invoice("INV-4", "portal"),
    ):
        assert deliver(systems, flow, event).status_code == 202
    drain()

    assert statuses() == {RunStatus.SUCCEEDED}, errors()
    assert sorted(p.name for p in (tmp_path / "files" / "print").iterdir()) == [
        "invoice-INV-1.pdf"
    ]
    (mail,) = OutboxMessage.objects.all()
    assert (mail.to, mail.subject) == (
        ["billing@contoso.example"],
        "Your invoice INV-2",
    )
    assert [a["name"] for a in mail.attachments] == ["invoice-INV-2.pdf"]
    texted = FlowRun.objects.get(payload__body__MessageId="INV-3")
    assert texted.context["steps"]["sms"]["body"]["status"] == "queued"
    portal = OtcsNode.objects.filter(parent__name="C-1001")
    assert sorted(portal.values_list("name", flat=True)) == [
        "invoice-INV-3.pdf",
        "invoice-INV-4.pdf",
    ]


def test_delivery_feedback_notes_each_event_and_follows_up_a_bounce(
    systems, exstream, dynamics, admin_user, woken
):
    flow = use("delivery-feedback", admin_user, exstream=exstream, crm=dynamics)
    sandbox = f"{systems.url}/sandbox/exstream/_sandbox"
    hook = f"{systems.url}/hooks/flows/{flow.hook_token}/"
    requests.post(
        f"{sandbox}/callbacks", json={"url": hook, "secret": EVENT_SECRET}, timeout=10
    ).raise_for_status()

    for event in ("delivered", "bounced"):
        requests.post(
            f"{sandbox}/deliveries",
            json={
                "event": event,
                "communicationId": str(WELCOME_LETTER),
                "channel": "EMAIL",
                "recipient": "info@contoso.example.com",
            },
            timeout=10,
        ).raise_for_status()
    deadline = time.monotonic() + 15
    while FlowRun.objects.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # the emulator posts each event from a thread
    drain()

    bounced = FlowRun.objects.get(payload__event="bounced")
    delivered = FlowRun.objects.get(payload__event="delivered")
    assert delivered.status == RunStatus.SUCCEEDED, delivered.error
    assert bounced.status == RunStatus.WAITING
    task = ReviewTask.objects.get(run=bounced)
    assert (task.kind, task.title) == (TaskKind.APPROVAL, "A communication bounced")
    notes, _ = connector_for(dynamics.pk)[1].run_action(
        "query",
        {
            "entity_set": "annotations",
            "filter": "_objectid_value eq aaaaaaaa-0000-4000-8000-000000000001",
            "select": ["subject", "notetext"],
        },
        ActionContext(idempotency_key="test-notes"),
    )
    day = delivered.payload["occurred_at"][:10]
    assert sorted(n["notetext"] for n in notes["records"]) == [
        f"Welcome letter bounced by email to info@contoso.example.com on {day}.",
        f"Welcome letter delivered by email to info@contoso.example.com on {day}.",
    ]


def test_governed_content_updates_releases_and_archives_a_sample(
    systems, exstream, admin_user, woken
):
    flow = use(
        "governed-content", admin_user, events=systems.hook, ecm=systems.otcs,
        exstream=exstream,
    )  # fmt: skip
    text = "Yours faithfully,\nAcme Billing (regulated by BaFin)"
    block, _ = connector_for(systems.otcs.pk)[1].run_action(
        "upload_document",
        {
            "parent_id": 2000,
            "folder_path": "Approved content",
            "categories": {
                "9834_2": "Invoice letter",
                "9834_3": "closing",
                "9834_4": text,
            },
        },
        ActionContext(
            idempotency_key="test-block",
            documents=[Document.from_bytes("closing.txt", text.encode())],
        ),
    )

    answer = deliver(systems, flow, {"MessageId": "wf-9", "node_id": block["node_id"]})
    assert answer.status_code == 202
    drain()

    assert statuses() == {RunStatus.SUCCEEDED}, errors()
    letter = ExstreamCommunication.objects.get(id=INVOICE_LETTER)
    assert letter.state == "APPROVED"
    assert letter.content_blocks["closing"] == text
    sample = OtcsNode.objects.get(name=f"sample-{block['node_id']}.pdf")
    assert (sample.parent.name, sample.parent.parent.name) == (
        "Invoice letter",
        "Compliance evidence",
    )
    assert sample.description == "Rendered with block closing"
