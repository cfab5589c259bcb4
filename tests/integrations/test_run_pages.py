"""The run and flow pages: filters, one run's story, replay, cancel, approval,
who sees which button, and "Run now"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations import services
from integrations.engine.runner import execute_run
from integrations.models import (
    AttemptOutcome,
    FlowRun,
    ReviewTask,
    RunStatus,
    TaskStatus,
    Transfer,
    TransferAttempt,
    TransferStatus,
)
from tests.factories import UserFactory
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = {
    "key": "note",
    "type": "set",
    "name": "Note the order",
    "variables": [{"name": "order", "expression": "trigger.order"}],
}
CHECK = {
    "key": "check_amount",
    "type": "condition",
    "name": "Check the amount",
    "expression": "trigger.amount < 1000",
    "otherwise": "fail",
    "message": "The amount is over the limit of 1000.",
}
APPROVE = {
    "key": "approve",
    "type": "approval",
    "title": "Approve the payment",
    "instructions": "Check the amount.",
}


def manual_flow(user: Any, *steps: dict[str, Any], name: str = "Pay invoices") -> Any:
    return services.create_flow(
        name,
        {"trigger": {"type": "manual"}, "steps": list(steps)},
        user,
        description="Pays approved invoices.",
    )


def run(flow: Any, payload: dict[str, Any], user: Any) -> FlowRun:
    """Start a run by hand and execute it here, as a worker would."""
    started, _ = services.start_run(flow, payload, user)
    execute_run(started.pk, worker="test")
    started.refresh_from_db()
    return started


def viewer_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="vera", role=roles.VIEWER))
    return client


@pytest.fixture
def stopped(admin_user, woken) -> FlowRun:
    """A run that needs review: the amount check failed."""
    flow = manual_flow(admin_user, NOTE, CHECK)
    return run(flow, {"order": "A-1", "amount": 5000}, admin_user)


# --- The list --------------------------------------------------------------------


def test_the_list_filters_by_status_flow_and_event_id(admin_client, admin_user, woken):
    pay = manual_flow(admin_user, NOTE, CHECK)
    other = manual_flow(admin_user, NOTE, name="Archive letters")
    good = run(pay, {"order": "A-1", "amount": 10}, admin_user)
    bad = run(pay, {"order": "A-2", "amount": 5000}, admin_user)
    queued, _ = services.start_run(other, {}, admin_user, idempotency_key="evt-77")

    page = admin_client.get("/runs/").content.decode()
    review = admin_client.get("/runs/?status=review").content.decode()
    progress = admin_client.get("/runs/?status=progress").content.decode()
    by_flow = admin_client.get(f"/runs/?flow={other.pk}").content.decode()
    by_event = admin_client.get("/runs/?q=evt-7").content.decode()

    assert (good.status, bad.status) == (RunStatus.SUCCEEDED, RunStatus.NEEDS_REVIEW)
    for run_ in (good, bad, queued):
        assert f'data-run="{run_.pk}"' in page
    # newest first
    assert page.index(f'data-run="{queued.pk}"') < page.index(f'data-run="{good.pk}"')
    assert f'data-run="{bad.pk}"' in review
    assert f'data-run="{good.pk}"' not in review
    assert f'data-run="{queued.pk}"' in progress
    assert f'data-run="{bad.pk}"' not in progress
    assert f'data-run="{queued.pk}"' in by_flow
    assert f'data-run="{good.pk}"' not in by_flow
    assert f'data-run="{queued.pk}"' in by_event
    assert f'data-run="{good.pk}"' not in by_event
    # the error's first line for the run that stopped; the trigger in words
    assert "The amount is over the limit of 1000." in page
    assert "Manual" in page


def test_the_tabs_count_runs_and_the_strip_sums_the_last_day(
    admin_client, admin_user, woken
):
    flow = manual_flow(admin_user, NOTE, CHECK)
    for amount in (1, 2, 3000):
        run(flow, {"order": "A", "amount": amount}, admin_user)
    services.start_run(flow, {}, admin_user)

    response = admin_client.get("/runs/")

    tabs = {tab["key"]: str(tab["count"]) for tab in response.context["tabs"]}
    assert tabs == {
        "all": "4",
        "review": "1",
        "progress": "1",
        "succeeded": "2",
        "stopped": "0",
    }
    strip = {item["status"]: item["count"] for item in response.context["summary"]}
    assert strip[RunStatus.SUCCEEDED] == 2
    assert strip[RunStatus.NEEDS_REVIEW] == 1
    assert strip[RunStatus.QUEUED] == 1
    assert response.context["day_total"] == 4


def test_the_list_takes_the_same_few_queries_for_many_runs(
    admin_client, admin_user, woken
):
    flows = [manual_flow(admin_user, NOTE, name=f"Flow {n}") for n in range(3)]
    for flow in flows:
        services.start_run(flow, {}, admin_user)
    admin_client.get("/runs/")  # warm the permission cache and the session
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/runs/")
    for flow in flows:
        for _ in range(10):
            services.start_run(flow, {}, admin_user)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get("/runs/")

    assert len(response.context["page"].object_list) == 33
    assert len(many) == len(few)
    assert len(many) <= 12


def test_the_list_pages_by_fifty(admin_client, admin_user, woken):
    flow = manual_flow(admin_user, NOTE)
    for _ in range(51):
        services.start_run(flow, {}, admin_user)

    first = admin_client.get("/runs/")
    second = admin_client.get("/runs/?page=2")

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert "Older runs" in first.content.decode()


def test_runs_are_found_by_business_object_and_by_when_they_started(
    admin_client, admin_user, woken
):
    flow = services.create_flow(
        "Pay invoices",
        {
            "trigger": {"type": "manual"},
            "business_key": '"invoice:" & trigger.invoice',
            "steps": [NOTE],
        },
        admin_user,
    )
    recent, _ = services.start_run(flow, {"invoice": "INV-1001"}, admin_user)
    older, _ = services.start_run(flow, {"invoice": "INV-1002"}, admin_user)
    # no invoice in the data: JSONata joins nothing to the prefix
    unnamed, _ = services.start_run(flow, {}, admin_user)
    FlowRun.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )

    def found(query: str) -> list[int]:
        page = admin_client.get(f"/runs/?{query}")
        return [run.pk for run in page.context["page"].object_list]

    assert recent.business_key == "invoice:INV-1001"
    assert unnamed.business_key == "invoice:"
    assert found("q=INV-1002") == [older.pk]
    assert found("q=invoice") == [unnamed.pk, recent.pk, older.pk]
    assert found("since=24h") == [unnamed.pk, recent.pk]
    assert found("since=7d&q=INV-") == [recent.pk, older.pk]
    assert found("since=forever") == [unnamed.pk, recent.pk, older.pk]  # ignored
    page = admin_client.get("/runs/").content.decode()
    assert "invoice:INV-1001" in page
    # queued runs on the page: the rows refresh themselves
    assert 'hx-trigger="every 5s"' in page


def test_no_runs_yet_says_what_a_run_is(admin_client):
    page = admin_client.get("/runs/").content.decode()

    assert "No runs yet" in page
    assert "A run is one trip of a flow" in page


# --- One run ---------------------------------------------------------------------


def test_a_stopped_run_shows_its_steps_error_and_documents(
    admin_client, admin_user, stopped
):
    transfer = Transfer.objects.create(
        flow=stopped.flow,
        source_system="D365",
        source_id="account-1/contract",
        source_version="1",
        name="contract.pdf",
        size=2048,
        sha256="ab" * 32,
        target_ref="node 4711",
        status=TransferStatus.DONE,
        run=stopped,
    )
    TransferAttempt.objects.create(
        transfer=transfer,
        run=stopped,
        run_attempt=1,
        outcome=AttemptOutcome.RETRYING,
        http_status=503,
    )
    TransferAttempt.objects.create(
        transfer=transfer, run=stopped, run_attempt=1, outcome=AttemptOutcome.SUCCEEDED
    )

    page = admin_client.get(f"/runs/{stopped.pk}/").content.decode()

    assert "Note the order" in page  # labels from the version's definition
    assert "Check the amount" in page
    assert 'data-step-status="failed"' in page
    assert "The amount is over the limit of 1000." in page
    assert "What to do" in page
    assert f'data-transfer="{transfer.pk}"' in page
    assert "contract.pdf" in page
    assert "2.0\xa0KB" in page
    assert f'title="SHA-256 {"ab" * 32}"' in page
    assert "node 4711" in page
    assert "Failed, will retry (503)" in page
    assert "&quot;order&quot;: &quot;A-1&quot;" in page  # the step's input
    assert f'action="/runs/{stopped.pk}/replay/"' in page
    assert f'action="/runs/{stopped.pk}/cancel/"' in page


def test_big_step_data_is_cut_with_a_note(admin_client, admin_user, woken):
    flow = manual_flow(admin_user, NOTE)
    done = run(flow, {"order": "x" * 30_000}, admin_user)

    page = admin_client.get(f"/runs/{done.pk}/").content.decode()

    assert "Only the first 20 KB are shown." in page
    assert "x" * 30_000 not in page


# --- Actions ---------------------------------------------------------------------


def test_replay_from_the_page_starts_a_new_run_and_goes_there(
    admin_client, admin_user, stopped
):
    # a fixed version lets the replay go through
    services.publish_version(
        stopped.flow,
        {
            "trigger": {"type": "manual"},
            "steps": [NOTE, {**CHECK, "expression": "trigger.amount < 10000"}],
        },
        admin_user,
        note="Raise the limit",
    )
    response = admin_client.post(
        f"/runs/{stopped.pk}/replay/",
        {"from_step": "failed", "version": "latest", "comment": "limit raised"},
    )

    new_run = FlowRun.objects.get(replay_of=stopped)
    assert response.status_code == 302
    assert response["Location"] == f"/runs/{new_run.pk}/"
    stopped.refresh_from_db()
    assert stopped.status == RunStatus.REPLAYED
    assert new_run.version.number == 2
    execute_run(new_run.pk, worker="test")
    new_run.refresh_from_db()
    assert new_run.status == RunStatus.SUCCEEDED
    page = admin_client.get(f"/runs/{new_run.pk}/").content.decode()
    assert f"is being run again as run {new_run.pk}" in page
    assert 'data-link="replay-of"' in page
    old_page = admin_client.get(f"/runs/{stopped.pk}/").content.decode()
    assert 'data-link="replay"' in old_page


def test_replaying_a_run_that_cannot_be_replayed_says_so(
    admin_client, admin_user, woken
):
    flow = manual_flow(admin_user, NOTE)
    done = run(flow, {"order": "A"}, admin_user)

    response = admin_client.post(f"/runs/{done.pk}/replay/", follow=True)

    assert response.status_code == 200
    assert "only a run that needs review, failed or was cancelled" in (
        response.content.decode()
    )
    assert FlowRun.objects.count() == 1


def test_cancel_from_the_page_stops_the_run(admin_client, admin_user, woken):
    flow = manual_flow(admin_user, NOTE)
    queued, _ = services.start_run(flow, {}, admin_user)

    response = admin_client.post(
        f"/runs/{queued.pk}/cancel/", {"comment": "Started by mistake"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/runs/{queued.pk}/"
    queued.refresh_from_db()
    assert queued.status == RunStatus.CANCELLED
    page = admin_client.get(f"/runs/{queued.pk}/").content.decode()
    assert "was cancelled" in page
    assert f'action="/runs/{queued.pk}/cancel/"' not in page


def test_approve_and_reject_from_the_page(admin_client, admin_user, woken):
    requester = UserFactory(username="rob", role=roles.INTEGRATION_ADMIN)
    flow = manual_flow(admin_user, APPROVE, NOTE)
    waiting = run(flow, {"order": "A-1"}, requester)
    rejected = run(flow, {"order": "A-2"}, requester)
    task = ReviewTask.objects.get(run=waiting)
    assert waiting.status == RunStatus.WAITING
    page = admin_client.get(f"/runs/{waiting.pk}/").content.decode()
    assert "Approve the payment" in page
    assert 'value="approve"' in page

    approved = admin_client.post(
        f"/runs/{waiting.pk}/tasks/{task.pk}/decide/",
        {"decision": "approve", "comment": "fine"},
    )
    refused = admin_client.post(
        f"/runs/{rejected.pk}/tasks/{ReviewTask.objects.get(run=rejected).pk}/decide/",
        {"decision": "reject", "comment": "too much"},
    )

    assert approved.status_code == refused.status_code == 302
    assert approved["Location"] == f"/runs/{waiting.pk}/"
    task.refresh_from_db()
    assert (task.status, task.decision) == (TaskStatus.RESOLVED, "approved")
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.QUEUED
    execute_run(waiting.pk, worker="test")
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.SUCCEEDED
    rejected.refresh_from_db()
    assert rejected.status == RunStatus.FAILED
    page = admin_client.get(f"/runs/{rejected.pk}/").content.decode()
    assert "Rejected by ada: too much" in page


def test_who_started_a_run_cannot_approve_it(admin_client, admin_user, woken):
    flow = manual_flow(admin_user, APPROVE, NOTE)
    waiting = run(flow, {"order": "A-1"}, admin_user)
    task = ReviewTask.objects.get(run=waiting)

    answer = admin_client.post(
        f"/runs/{waiting.pk}/tasks/{task.pk}/decide/",
        {"decision": "approve", "comment": "mine"},
        follow=True,
    )

    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert "You started this run, so someone else has to approve or reject it." in (
        answer.content.decode()
    )


def test_a_reviewer_of_another_queue_cannot_decide_from_the_run_page(admin_user, woken):
    # given: an approval for Legal, and a reviewer who is not in Legal
    flow = manual_flow(admin_user, {**APPROVE, "group": "Legal"}, NOTE)
    waiting = run(flow, {"order": "A-1"}, admin_user)
    task = ReviewTask.objects.get(run=waiting)
    client = Client()
    client.force_login(UserFactory(username="rita", role=roles.REVIEWER))

    # when
    answer = client.post(
        f"/runs/{waiting.pk}/tasks/{task.pk}/decide/",
        {"decision": "approve", "comment": "not mine to approve"},
        follow=True,
    )

    # then: refused in words, nothing decided
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert "This task is in the queue “Legal”; you are not in it." in (
        answer.content.decode()
    )


def test_a_viewer_sees_runs_but_no_buttons_and_cannot_post(admin_user, stopped):
    viewer = viewer_client()

    page = viewer.get(f"/runs/{stopped.pk}/")
    flow_page = viewer.get(f"/flows/{stopped.flow_id}/")

    assert page.status_code == 200
    assert "The amount is over the limit of 1000." in page.content.decode()
    for action in ("replay", "cancel"):
        assert f"/runs/{stopped.pk}/{action}/" not in page.content.decode()
    assert f"/flows/{stopped.flow_id}/run/" not in flow_page.content.decode()
    assert viewer.post(f"/runs/{stopped.pk}/replay/").status_code == 403
    assert viewer.post(f"/runs/{stopped.pk}/cancel/").status_code == 403
    assert viewer.post(f"/flows/{stopped.flow_id}/run/", {}).status_code == 403
    stopped.refresh_from_db()
    assert stopped.status == RunStatus.NEEDS_REVIEW
    assert FlowRun.objects.count() == 1


# --- Flows -----------------------------------------------------------------------


def test_the_flow_list_says_what_starts_each_flow(admin_client, admin_user, woken):
    flow = manual_flow(admin_user, NOTE, CHECK)
    run(flow, {"order": "A", "amount": 1}, admin_user)
    services.create_flow(
        "Nightly report",
        {
            "trigger": {"type": "schedule", "every_seconds": 300},
            "steps": [NOTE],
        },
        admin_user,
    )
    services.create_flow(
        "Follow up",
        {"trigger": {"type": "flow_finished", "flow": flow.pk}, "steps": [NOTE]},
        admin_user,
    )

    page = admin_client.get("/flows/").content.decode()

    assert "By hand" in page
    assert "Every 5 minutes" in page
    assert "After “Pay invoices” finishes" in page
    assert 'data-flow-status="draft"' in page
    assert "Version 1" in page
    assert "Succeeded" in page


def test_no_flows_yet_explains_flows(admin_client):
    page = admin_client.get("/flows/").content.decode()

    assert "No flows yet" in page
    assert "Start from a template" in page
    assert 'href="/flows/templates/"' in page


def test_the_flow_page_shows_steps_versions_and_runs(admin_client, admin_user, woken):
    flow = manual_flow(admin_user, NOTE, CHECK)
    done = run(flow, {"order": "A", "amount": 1}, admin_user)

    page = admin_client.get(f"/flows/{flow.pk}/").content.decode()

    assert "Pays approved invoices." in page
    assert page.index("Note the order") < page.index("Check the amount")
    assert "Checks a condition" in page
    assert 'data-version="1"' in page
    assert f'data-run="{done.pk}"' in page
    assert "xc-bar-succeeded xc-h-10" in page
    assert 'name="payload"' in page
    assert "style=" not in page


def test_run_now_starts_a_run_and_goes_there(admin_client, admin_user, woken):
    flow = manual_flow(admin_user, NOTE)

    response = admin_client.post(
        f"/flows/{flow.pk}/run/", {"payload": '{"order": "A-7"}'}
    )

    started = FlowRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/runs/{started.pk}/"
    assert started.payload == {"order": "A-7"}
    assert started.trigger_kind == "manual"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"order": ', "This is not valid JSON"),
        ('["A-7"]', "The data must be a JSON object"),
    ],
)
def test_run_now_with_bad_json_keeps_the_text_and_says_why(
    admin_client, admin_user, woken, text, message
):
    flow = manual_flow(admin_user, NOTE)

    response = admin_client.post(f"/flows/{flow.pk}/run/", {"payload": text})

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "is-invalid" in page
    assert text.replace('"', "&quot;") in page
    assert FlowRun.objects.count() == 0


def test_the_webhook_address_is_shown_for_webhook_flows(
    admin_client, admin_user, woken
):
    from audit.services import Actor
    from connectors import services as connection_services

    hook = connection_services.create_connection(
        Actor.user(admin_user),
        connector_key="webhook",
        name="Dynamics events",
        settings={
            "verification": "shared_secret_header",
            "header_name": "X-Webhook-Secret",
        },
        secrets={"secret": "hook-secret-NEVER-SHOWN"},
    )
    flow = services.create_flow(
        "From Dynamics",
        {"trigger": {"type": "webhook", "connection": hook.pk}, "steps": [NOTE]},
        admin_user,
    )

    page = admin_client.get(f"/flows/{flow.pk}/").content.decode()

    assert f"http://testserver/hooks/flows/{flow.hook_token}/" in page
    assert "“Dynamics events”" in page
    assert "NEVER-SHOWN" not in page
    assert "X-Webhook-Secret" not in page  # no connection settings
