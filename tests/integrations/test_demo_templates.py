"""Every template at work in the demo data: ``seed_demo`` makes one flow
per use case on the demo connections; each runs end to end against the
emulators, from its seeded run or from its own trigger."""

from __future__ import annotations

import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from connectors.exstream.emulator.state import WELCOME_LETTER
from integrations import flow_templates, reviews, services, triggers
from integrations.models import Flow, FlowRun, ReviewTask, RunStatus, TaskKind
from tests.integrations.flows import drain
from workspaces import services as workspaces

pytestmark = pytest.mark.django_db(transaction=True)

S, W = RunStatus.SUCCEEDED, RunStatus.WAITING
# What each seeded run ends as: done, or waiting for a reviewer by design.
SEEDED = {
    "capture-to-ecm": S,
    "exstream-archive": S,
    "workspace-on-create": S,
    "contract-sync": S,
    "transaction-docs": S,
    "event-to-communication": S,
    "case-correspondence": S,
    "communication-approval": W,  # a compliance approval
    "channel-routing": S,
    "governed-content": S,
    "partner-case": S,
    "po-exception": S,
    "partner-contract": S,
    "supplier-onboarding": S,
    "quality-incident": S,
    "order-reconciliation": S,
    "deal-approval": W,  # a discount approval
}


def runs_of(key: str) -> list[FlowRun]:
    return list(FlowRun.objects.filter(flow__template_key=key).order_by("pk"))


def test_every_template_runs_end_to_end_in_the_demo(sandbox, settings, tmp_path, woken):
    settings.XCONNECTOR_FILES_ROOT = tmp_path / "files"
    call_command("seed_demo", base_url=sandbox)
    call_command("seed_demo", base_url=sandbox)  # again: nothing twice
    admin = get_user_model().objects.get(username="admin")
    reviewer = get_user_model().objects.get(username="reviewer")
    flows = Flow.objects.exclude(template_key="")
    assert sorted(flows.values_list("template_key", flat=True)) == sorted(
        t.key for t in flow_templates.all_templates()
    )
    assert set(flows.values_list("status", flat=True)) == {"active"}

    # the seeded runs
    drain()
    for key, expected in SEEDED.items():
        (run,) = runs_of(key)
        assert (key, run.status) == (key, expected), run.error

    # the polled ones: Dynamics 365's accounts, the carrier's delay notice
    assert triggers.poll(Flow.objects.get(template_key="metadata-sync").pk) == 3
    assert triggers.poll(Flow.objects.get(template_key="shipment-issue").pk) == 1
    # Exstream reports a delivery to the address the demo registered
    requests.post(
        f"{sandbox}/sandbox/exstream/_sandbox/deliveries",
        json={
            "event": "delivered",
            "communicationId": str(WELCOME_LETTER),
            "channel": "EMAIL",
            "recipient": "info@contoso.example.com",
        },
        timeout=10,
    ).raise_for_status()
    deadline = time.monotonic() + 15
    while not runs_of("delivery-feedback") and time.monotonic() < deadline:
        time.sleep(0.1)
    drain()
    assert {r.status for r in runs_of("metadata-sync")} == {S}
    assert [r.status for r in runs_of("shipment-issue")] == [W]  # a reviewer acts
    assert [r.status for r in runs_of("delivery-feedback")] == [S]

    # Contoso's signed contract is filed and approved: Dynamics 365 can link it
    def upload_and_approve(business_key: str, document_type: str) -> None:
        task = ReviewTask.objects.get(
            kind=TaskKind.MISSING_DOCUMENT,
            business_object=business_key,
            document_type=document_type,
            status="open",
        )
        upload = SimpleUploadedFile(
            f"{document_type}.pdf", b"%PDF-1.4 signed", "application/pdf"
        )
        reviews.resolve_with_document(task, reviewer, upload)
        approval = ReviewTask.objects.get(kind=TaskKind.APPROVAL, status="open",
                                          business_object=business_key)  # fmt: skip
        reviews.approve(approval, admin)

    upload_and_approve("A1", "signed_contract")
    access = Flow.objects.get(template_key="document-access")
    services.start_run(access, flow_templates.get("document-access").sample, admin)
    # the supplier, linked to its Dynamics 365 account, completes its checklist
    supplier = workspaces.workspace_type("supplier")
    workspaces.find_or_create(
        supplier,
        "V-1001",
        links=[("dynamics", "accounts", "aaaaaaaa-0000-4000-8000-000000000002")],
    )
    upload_and_approve("V-1001", "signed_contract")
    drain()

    assert [r.status for r in runs_of("document-access")] == [S]
    assert [r.status for r in runs_of("evidence-checklist")] == [S]
    assert not FlowRun.objects.filter(
        flow__template_key__gt="", status__in=["failed", "needs_review"]
    ).exists()
