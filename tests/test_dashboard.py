"""The dashboard's charts: runs per day by outcome, documents moved, failed
attempts per system, open tasks per queue with the oldest, the audit badge;
each shown only to a role that may see what it counts."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from audit.models import VerificationRun
from integrations import services
from integrations.engine.runner import execute_run
from integrations.models import FlowRun, ReviewTask, RunStatus, StepRun
from tests.factories import UserFactory
from tests.integrations.flows import account_event, contract_flow, deliver, drain
from xconnector import dashboard, roles


def test_runs_per_day_are_stacked_by_outcome_over_14_days(admin_user, woken):
    flow = services.create_flow(
        "Check amounts",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "check",
                    "type": "condition",
                    "expression": "trigger.amount < 100",
                    "otherwise": "fail",
                    "message": "Too much.",
                }
            ],
        },
        admin_user,
    )
    for amount in (10, 20, 500):
        run, _ = services.start_run(flow, {"amount": amount}, admin_user)
        execute_run(run.pk, worker="test")
    old, _ = services.start_run(flow, {"amount": 1}, admin_user)
    FlowRun.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    FlowRun.objects.create(
        flow=flow,
        version=flow.published_version,
        trigger_kind="manual",
        status=RunStatus.SUCCEEDED,
    )
    newest = FlowRun.objects.order_by("-pk").first()
    FlowRun.objects.filter(pk=newest.pk).update(
        created_at=timezone.now() - timedelta(days=20)  # outside the window
    )

    figures = dashboard.runs_per_day(timezone.now())

    today, three_days_ago = figures["days"][-1], figures["days"][-4]
    assert len(figures["days"]) == 14
    assert {s.key: s.count for s in today.segments} == {
        "succeeded": 2,
        "attention": 1,
        "going": 0,
        "other": 0,
    }
    assert {s.key: s.count for s in three_days_ago.segments}["going"] == 1
    assert figures["total"] == 4
    assert figures["legend"][0] == ("succeeded", "Succeeded", 2)
    # the busiest day fills the chart; segments stack from the bottom
    succeeded, attention = today.segments[0], today.segments[1]
    assert succeeded.y + succeeded.height == dashboard.CHART_HEIGHT
    assert attention.y + attention.height == succeeded.y
    assert round(succeeded.height + attention.height) == dashboard.CHART_HEIGHT


def test_today_is_counted_live_and_earlier_days_are_kept(admin_user, woken):
    flow = services.create_flow(
        "Note orders",
        {
            "trigger": {"type": "manual"},
            "steps": [{"key": "note", "type": "set", "variables": []}],
        },
        admin_user,
    )
    late, _ = services.start_run(flow, {}, admin_user)
    FlowRun.objects.filter(pk=late.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    dashboard.runs_per_day(timezone.now())

    services.start_run(flow, {}, admin_user)
    FlowRun.objects.filter(pk=late.pk).update(status=RunStatus.SUCCEEDED)
    kept = dashboard.runs_per_day(timezone.now())
    cache.clear()  # what five minutes do
    fresh = dashboard.runs_per_day(timezone.now())

    def outcomes(figures):
        return [
            {s.key: s.count for s in day.segments if s.count}
            for day in figures["days"][-3:]
        ]

    # Today's new run shows at once; the run of two days ago that ended
    # late is shown as it was until the earlier days are counted again.
    assert outcomes(kept) == [{"going": 1}, {}, {"going": 1}]
    assert outcomes(fresh) == [{"succeeded": 1}, {}, {"going": 1}]


def test_failures_documents_and_tasks_come_from_real_runs(
    systems, admin_user, admin_client, woken
):
    flow = contract_flow(systems, admin_user)

    deliver(systems, flow, account_event(1))
    deliver(systems, flow, account_event(2))
    drain()
    first_upload = StepRun.objects.filter(system="otcs").order_by("pk").first()
    StepRun.objects.filter(pk=first_upload.pk).update(status="retrying")
    ReviewTask.objects.create(
        kind="failed_transfer",
        queue="Accounts payable",
        title="Invoice INV-9 could not be filed",
        due_at=timezone.now() - timedelta(hours=1),
    )
    VerificationRun.objects.create(
        started_at=timezone.now(), finished_at=timezone.now(), ok=True,
        events_verified=42,
    )  # fmt: skip

    page = admin_client.get("/")
    html = page.content.decode()

    assert page.status_code == 200
    failures = {f["system"]: f for f in page.context["failures"]}
    content_server = failures["OpenText Content Server"]
    assert content_server["failed"] == 1
    assert content_server["total"] == StepRun.objects.filter(system="otcs").count()
    assert failures["REST API"]["failed"] == 0
    assert page.context["documents"]["total"] == 2
    assert "data-documents-total>2<" in html
    tasks = page.context["tasks"]
    assert tasks["queues"] == [
        {
            "queue": "Accounts payable",
            "open": 1,
            "overdue": 1,
            "width": 100.0,
            "overdue_width": 100.0,
        }
    ]
    assert tasks["oldest"].title == "Invoice INV-9 could not be filed"
    assert "Audit trail intact" in html and "42 events checked" in html
    assert html.count("<rect") >= 3  # runs and documents are drawn


def test_only_the_audit_roles_see_the_audit_badge(db):
    viewer = Client()
    viewer.force_login(UserFactory(username="vic", role=roles.VIEWER))
    auditor = Client()
    auditor.force_login(UserFactory(username="cora", role=roles.COMPLIANCE_AUDITOR))

    seen = viewer.get("/").context
    audited = auditor.get("/").context

    assert "runs" in seen and "verification" not in seen
    assert "verification" in audited
    assert 'data-verified="never"' in auditor.get("/").content.decode()
