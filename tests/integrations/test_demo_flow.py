"""The demo flow that ``make run`` seeds works against the emulators."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from connectors.sandbox.models import OtcsNode
from integrations import services
from integrations.demo import DEMO_FLOW, SAMPLE_PAYLOAD
from integrations.models import Flow, FlowRun, RunStatus
from tests.integrations.flows import drain

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_flow_files_a_contract_when_run_by_hand(
    sandbox, settings, woken, capsys
):
    # given: the demo, seeded twice (the second time changes nothing)
    call_command("seed_demo", base_url=sandbox)
    call_command("seed_demo", base_url=sandbox)
    output = capsys.readouterr().out
    flow = Flow.objects.get()
    admin = get_user_model().objects.get(username="admin")

    # when
    run, _ = services.start_run(flow, SAMPLE_PAYLOAD, admin)
    drain()

    # then
    assert f"Demo flows: 1 ({DEMO_FLOW})." in output
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
