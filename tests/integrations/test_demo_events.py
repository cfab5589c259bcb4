"""The living demo: each tick, an emulated system produces an event the
way the real one would, and the demo's flows pick it up."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from connectors.models import Connection, ConnectionStatus
from integrations import demo_events, triggers
from integrations.models import Flow, FlowRun, RunStatus
from tests.integrations.flows import drain

pytestmark = pytest.mark.django_db(transaction=True)


def runs_of(key: str) -> list[FlowRun]:
    return list(FlowRun.objects.filter(flow__template_key=key).order_by("pk"))


def test_each_tick_an_emulated_system_produces_work(sandbox, settings, tmp_path, woken):
    settings.XCONNECTOR_FILES_ROOT = tmp_path / "files"
    settings.XCONNECTOR_BASE_URL = sandbox
    call_command("seed_demo", base_url=sandbox)
    drain()
    assert PeriodicTask.objects.get(name=demo_events.TASK_NAME).enabled

    said = [demo_events.tick(number) for number in range(4)]

    assert said[0] == "Contoso Ltd moved to Redmond in Dynamics 365"
    assert said[1] == "the carrier reported SH-801 delayed (201)"
    assert said[2] == "Exstream reported a welcome letter delivered (200)"
    assert said[3] == "billing posted statement ST-2026-12-1003 (202)"
    # every connection was checked, so the dashboard shows their health
    assert not Connection.objects.filter(status=ConnectionStatus.UNTESTED).exists()
    assert set(Connection.objects.values_list("status", flat=True)) == {
        ConnectionStatus.HEALTHY
    }
    # and the flows picked the events up
    sync = Flow.objects.get(template_key="metadata-sync")
    assert triggers.poll(sync.pk) == 3  # the first poll reports every account
    assert triggers.poll(Flow.objects.get(template_key="shipment-issue").pk) == 2
    deadline = time.monotonic() + 15
    while not runs_of("delivery-feedback") and time.monotonic() < deadline:
        time.sleep(0.1)
    drain()
    assert [r.status for r in runs_of("delivery-feedback")] == [RunStatus.SUCCEEDED]
    archived = runs_of("exstream-archive")
    assert [r.business_key for r in archived] == ["customer:C-1001"] * 2
    assert {r.status for r in archived} == {RunStatus.SUCCEEDED}
    assert len(runs_of("shipment-issue")) == 2
