"""The demo flow that ``make run`` seeds works against the emulators."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from connectors.demo import seed_demo_connections
from connectors.sandbox.models import OtcsCategoryValue, OtcsNode
from integrations import reviews, services
from integrations.demo import DEMO_FLOW, SAMPLE_PAYLOAD, seed_demo_flows
from integrations.models import Flow, FlowRun, ReviewTask, RunStatus, TaskKind
from tests.integrations.flows import drain
from workspaces import services as workspaces
from workspaces.demo import seed_demo_types
from workspaces.models import Workspace
from xconnector.demo import seed_demo_users

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_flow_files_a_contract_when_run_by_hand(
    sandbox, settings, woken, capsys
):
    # given: the demo, seeded twice (the second time changes nothing)
    call_command("seed_demo", base_url=sandbox)
    call_command("seed_demo", base_url=sandbox)
    output = capsys.readouterr().out
    flow = Flow.objects.get(name=DEMO_FLOW)
    admin = get_user_model().objects.get(username="admin")

    # when
    run, _ = services.start_run(flow, SAMPLE_PAYLOAD, admin)
    drain()  # the seeded demo runs too

    # then
    assert (
        f"Demo flows: 6 ({DEMO_FLOW}, Approve large payments, Match invoices "
        "to orders, Collect supplier documents, Keep customer metadata in step, "
        "Send purchase orders)."
    ) in output
    assert flow.name == DEMO_FLOW
    assert flow.status == "active"
    run = FlowRun.objects.get(pk=run.pk)
    assert run.status == RunStatus.SUCCEEDED, run.error
    contract = OtcsNode.objects.get(name="contract-ACC-1001.txt")
    assert contract.parent.parent.name == "Acme GmbH"
    assert run.context["steps"]["confirm"]["body"]["json"] == {
        "account": "ACC-1001",
        "filed_as": contract.pk,
    }


def seed_curated_demo(base_url: str) -> None:
    """The demo without its flows from templates (their runs are the
    subject of test_demo_templates)."""
    seed_demo_users()
    connections = seed_demo_connections(base_url)
    seed_demo_types(connections)
    seed_demo_flows(connections)


def test_the_demo_runs_give_the_inbox_one_task_of_each_kind_once(
    sandbox, settings, woken
):
    # given: the demo, seeded twice
    seed_curated_demo(sandbox)
    seed_curated_demo(sandbox)

    # when: a worker runs what was queued
    drain()

    # then: each demo run ran once against the emulators
    assert {
        (run.flow.name, run.status) for run in FlowRun.objects.select_related("flow")
    } == {
        (DEMO_FLOW, RunStatus.NEEDS_REVIEW),
        ("Approve large payments", RunStatus.WAITING),
        ("Match invoices to orders", RunStatus.SUCCEEDED),
        ("Match invoices to orders", RunStatus.WAITING),
        ("Collect supplier documents", RunStatus.SUCCEEDED),
        ("Keep customer metadata in step", RunStatus.SUCCEEDED),
        ("Send purchase orders", RunStatus.SUCCEEDED),
        ("Send purchase orders", RunStatus.NEEDS_REVIEW),
    }
    assert FlowRun.objects.count() == 11
    # and each emulated account's workspace holds its Dynamics 365 values
    contoso = Workspace.objects.get(business_key="A1")
    assert contoso.synced_at is not None and contoso.sync_error == ""
    values = OtcsCategoryValue.objects.get(node_id=contoso.ecm_node_id).values
    assert (values["9832_2"], values["9832_3"], values["9832_4"]) == (
        "Contoso Ltd",
        "A1",
        "Seattle",
    )
    # and the supplier's workspace holds two of its four documents
    supplier = Workspace.objects.get(business_key="V-1001")
    assert (supplier.name, workspaces.checklist(supplier).summary) == (
        "Fabrikam Supplies",
        "2 of 4",
    )
    # and the reviewer finds one task of each kind, in two queues, and the
    # supplier's workspace asks for its two missing documents
    tasks = sorted(
        (task.kind, task.queue, task.business_object, task.title)
        for task in ReviewTask.objects.filter(status__in=["open", "claimed"])
    )
    assert tasks == [
        (
            TaskKind.APPROVAL,
            "Reviewer",
            "invoice:INV-2026-0412",
            "Approve a large payment",
        ),
        (
            TaskKind.INCOMPLETE_METADATA,
            "Reviewer",
            "account:ACC-1017",
            f"{DEMO_FLOW}: “Find or create the customer workspace” needs information",
        ),
        # the customer workspaces the sync flow opened ask for their contracts
        *(
            (
                TaskKind.MISSING_DOCUMENT,
                "Reviewer",
                number,
                f"{name}: signed contract missing",
            )
            for number, name in [
                ("A1", "Contoso Ltd"),
                ("A2", "Fabrikam Inc"),
                ("A3", "Northwind Traders"),
            ]
        ),
        (
            TaskKind.MISSING_DOCUMENT,
            "Reviewer",
            "V-1001",
            "Fabrikam Supplies: bank details missing",
        ),
        (
            TaskKind.MISSING_DOCUMENT,
            "Reviewer",
            "V-1001",
            "Fabrikam Supplies: signed contract missing",
        ),
        (
            TaskKind.PARTNER_EXCEPTION,
            "Reviewer",
            "purchase order:PO-4712",
            "Send purchase orders: “Send the order to the partner”: the trading "
            "partner refused it",
        ),
        (
            TaskKind.RECONCILIATION,
            "Accounts payable",
            "invoice:INV-77131",
            "“Invoice against order”: 1 difference to check",
        ),
    ]
    reviewer = get_user_model().objects.get(username="reviewer")
    assert reviews.counts_by_queue(reviewer) == {
        "Accounts payable": {"open": 1, "overdue": 0, "mine": 0},
        "Reviewer": {"open": 8, "overdue": 0, "mine": 0},
    }
