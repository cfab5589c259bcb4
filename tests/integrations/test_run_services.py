"""Starting, cancelling and replaying runs; who may; what a definition must
hold; and how claims, rate limits and the sweeper decide who runs what."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor
from connectors import services as connection_services
from connectors.errors import PermanentError
from connectors.models import Connection
from integrations import services
from integrations.engine import claims, sweeper
from integrations.engine.runner import Execution, execute_run
from integrations.engine.sweeper import Sweep, sweep
from integrations.models import FlowRun, RunStatus, StepRun
from tests.factories import UserFactory
from tests.integrations.flows import drain, rule
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = {
    "key": "note",
    "type": "set",
    "variables": [{"name": "seen", "expression": "true"}],
}


def manual_flow(user: Any, name: str = "By hand", **options: Any) -> Any:
    return services.create_flow(
        name, {"trigger": {"type": "manual"}, "steps": [NOTE]}, user, **options
    )


def echo_flow(systems: Any, user: Any) -> Any:
    return services.create_flow(
        "Echo",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "send",
                    "type": "action",
                    "connection": systems.orders.pk,
                    "action": "request",
                    "mapping": [rule("method", '"POST"'), rule("path", '"echo"')],
                }
            ],
        },
        user,
    )


# --- Start, cancel, replay ---------------------------------------------------


def test_the_same_idempotency_key_starts_one_run(admin_user, woken):
    # given
    flow = manual_flow(admin_user)

    # when
    first, first_created = services.start_run(
        flow, {"n": 1}, admin_user, idempotency_key="abc"
    )
    second, second_created = services.start_run(
        flow, {"n": 2}, admin_user, idempotency_key="abc"
    )

    # then
    assert (first_created, second_created) == (True, False)
    assert second.pk == first.pk
    run = FlowRun.objects.get()
    assert (run.event_id, run.payload, run.started_by) == (
        "manual-abc",
        {"n": 1},
        admin_user,
    )
    assert AuditEvent.objects.filter(event_type="run.started").count() == 1
    assert woken == [run.pk]


def test_a_cancelled_queued_run_is_never_executed(admin_user, woken):
    # given
    flow = manual_flow(admin_user)
    run, _ = services.start_run(flow, {}, admin_user)

    # when
    cancelled = services.cancel_run(run, admin_user, comment="Sent by mistake")
    outcome = execute_run(run.pk, worker="test")

    # then
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.finished_at is not None
    assert outcome == "not claimable"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert StepRun.objects.filter(run=run).count() == 0
    event = AuditEvent.objects.get(event_type="run.cancelled")
    assert event.run_id == run.pk
    assert event.payload == {"was": "queued", "comment": "Sent by mistake"}
    # and a cancelled run cannot be cancelled again
    with pytest.raises(PermanentError, match="cannot be cancelled"):
        services.cancel_run(run, admin_user)


def test_a_run_cancelled_while_running_commits_nothing_more(admin_user, woken):
    # given: a worker holds the run
    flow = manual_flow(admin_user)
    run, _ = services.start_run(flow, {}, admin_user)
    token = claims.claim(run.pk, "test")
    assert token == 1

    # when: it is cancelled before the worker commits its step
    services.cancel_run(run, admin_user)
    outcome = Execution(
        FlowRun.objects.select_related("flow", "version").get(pk=run.pk), token
    ).go()

    # then
    assert outcome == "lost lease"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.checkpoint == 0
    assert StepRun.objects.filter(run=run).count() == 0


def test_a_worker_that_lost_its_lease_cannot_write(admin_user, woken):
    # given: a worker's lease ran out and another one took the run over
    flow = manual_flow(admin_user)
    run, _ = services.start_run(flow, {}, admin_user)
    first = claims.claim(run.pk, "first")
    FlowRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    second = claims.claim(run.pk, "second")

    # when / then: only the second token can write
    assert (first, second) == (1, 2)
    assert claims.fenced(run.pk, first).update(checkpoint=5) == 0
    assert claims.fenced(run.pk, second).update(checkpoint=0) == 1
    # and a live lease cannot be claimed a third time
    assert claims.claim(run.pk, "third") is None
    run.refresh_from_db()
    assert (run.worker, run.attempt) == ("second", 2)


def test_a_succeeded_run_cannot_be_replayed(admin_user, woken):
    # given
    flow = manual_flow(admin_user)
    run, _ = services.start_run(flow, {}, admin_user)
    drain()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED

    # when / then
    with pytest.raises(PermanentError) as raised:
        services.replay_run(run, admin_user)
    assert raised.value.message == (
        f"Run {run.pk} is succeeded; only a run that needs review, failed or "
        "was cancelled can be replayed."
    )
    assert FlowRun.objects.count() == 1


def test_a_cancelled_run_replayed_from_the_start_succeeds(admin_user, woken):
    # given
    flow = manual_flow(admin_user)
    run, _ = services.start_run(flow, {"n": 3}, admin_user)
    services.cancel_run(run, admin_user)

    # when
    new_run = services.replay_run(run, admin_user, from_step="start")
    drain()

    # then
    new_run.refresh_from_db()
    run.refresh_from_db()
    assert (run.status, new_run.status) == (RunStatus.REPLAYED, RunStatus.SUCCEEDED)
    assert (new_run.replay_of_id, new_run.payload) == (run.pk, {"n": 3})


def test_a_viewer_may_not_start_replay_or_cancel(admin_user, woken):
    # given
    viewer = UserFactory(username="vic", role=roles.VIEWER)
    flow = manual_flow(admin_user)
    run, _ = services.start_run(flow, {}, admin_user)

    # when / then
    with pytest.raises(PermissionDenied, match=r"integrations\.start_flowrun"):
        services.start_run(flow, {}, viewer)
    with pytest.raises(PermissionDenied, match=r"integrations\.cancel_flowrun"):
        services.cancel_run(run, viewer)
    services.cancel_run(run, admin_user)
    with pytest.raises(PermissionDenied, match=r"integrations\.replay_flowrun"):
        services.replay_run(run, viewer)
    assert FlowRun.objects.count() == 1
    assert FlowRun.objects.get().status == RunStatus.CANCELLED


# --- Definitions and connections ---------------------------------------------


def test_validate_definition_lists_every_problem(systems, admin_user):
    # given: an unknown connection, an unknown action, a broken expression
    # and a router that jumps to a step that is not there
    definition = {
        "trigger": {"type": "manual"},
        "steps": [
            {
                "key": "gone",
                "type": "action",
                "connection": 999_999,
                "action": "request",
            },
            {
                "key": "wrong_action",
                "type": "action",
                "connection": systems.orders.pk,
                "action": "teleport",
            },
            {
                "key": "broken",
                "type": "action",
                "connection": systems.orders.pk,
                "action": "request",
                "mapping": [rule("path", '"orders/" & (trigger.id')],
            },
            {
                "key": "pick",
                "type": "router",
                "routes": [{"when": "true", "goto": "nowhere"}],
            },
        ],
    }

    # when
    with pytest.raises(services.InvalidDefinition) as raised:
        services.validate_definition(definition)

    # then
    problems = raised.value.problems
    text = " ".join(problems)
    assert "Step “Gone”: its connection does not exist." in problems
    assert "Step “Wrong action”: Orders API has no action “teleport”." in problems
    assert "Step “Broken”:" in text
    assert "“path”" in text
    assert "step “pick” jumps to “nowhere”, which is not a step" in text


def test_a_connection_used_by_a_published_version_cannot_be_deleted(
    systems, admin_user
):
    # given
    echo_flow(systems, admin_user)

    # when / then: the message names the flow version that uses it
    with pytest.raises(connection_services.ConnectionInUse) as raised:
        connection_services.delete_connection(Actor.user(admin_user), systems.orders)
    assert str(raised.value) == (
        "“Orders API” is used by “Echo v1”: change it to another connection first."
    )
    assert Connection.objects.filter(pk=systems.orders.pk).exists()


# --- Claims, rate limits, the sweeper ----------------------------------------


def test_a_spent_rate_limit_defers_the_run_without_a_failure(
    systems, admin_user, woken
):
    # given: one call a minute to the orders API, and two runs
    Connection.objects.filter(pk=systems.orders.pk).update(rate_limit_per_minute=1)
    flow = echo_flow(systems, admin_user)
    first, _ = services.start_run(flow, {}, admin_user)
    second, _ = services.start_run(flow, {}, admin_user)
    if timezone.now().second >= 57:  # keep both runs in one minute's window
        time.sleep(4)

    # when
    outcomes = [execute_run(first.pk, "test"), execute_run(second.pk, "test")]

    # then
    assert outcomes == [RunStatus.SUCCEEDED, RunStatus.RETRYING]
    second.refresh_from_db()
    assert second.status == RunStatus.RETRYING
    assert second.error == "Waiting for the rate limit of “Orders API”."
    assert second.step_attempt == 0
    assert second.next_attempt_at > timezone.now()
    assert StepRun.objects.filter(run=second).count() == 0
    assert woken.count(second.pk) == 2  # started, then deferred


def test_a_flow_at_its_concurrency_limit_is_busy(admin_user, woken):
    # given: one run of a one-at-a-time flow holds a live lease
    flow = manual_flow(admin_user, max_concurrent_runs=1)
    running, _ = services.start_run(flow, {}, admin_user)
    waiting, _ = services.start_run(flow, {}, admin_user)
    FlowRun.objects.filter(pk=running.pk).update(
        status=RunStatus.RUNNING,
        attempt=1,
        lease_expires_at=timezone.now() + timedelta(minutes=1),
    )

    # when / then
    with pytest.raises(claims.Busy):
        claims.claim(waiting.pk, "test")
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempt) == (RunStatus.QUEUED, 0)

    # and execute_run puts it back for later
    woken.clear()
    assert execute_run(waiting.pk, "test") == "busy"
    assert woken == [waiting.pk]


def test_the_sweeper_wakes_orphaned_and_forgotten_runs(admin_user, woken, monkeypatch):
    # given: a run whose worker died and a run nobody claimed (the sweeper
    # imported ``wake`` by name: route it to the fixture's stand-in too)
    monkeypatch.setattr(sweeper, "wake", claims.wake)
    flow = manual_flow(admin_user)
    orphaned, _ = services.start_run(flow, {}, admin_user)
    forgotten, _ = services.start_run(flow, {}, admin_user)
    fresh, _ = services.start_run(flow, {}, admin_user)
    now = timezone.now()
    FlowRun.objects.filter(pk=orphaned.pk).update(
        status=RunStatus.RUNNING,
        attempt=1,
        worker="dead",
        lease_expires_at=now - timedelta(seconds=5),
    )
    FlowRun.objects.filter(pk=forgotten.pk).update(
        enqueued_at=now - timedelta(minutes=10)
    )
    woken.clear()

    # when
    swept = sweep()

    # then: both are woken, the freshly queued one is left alone
    assert swept == Sweep(orphaned=1, due=0, requeued=1)
    assert swept.woken == 2
    assert woken == [orphaned.pk, forgotten.pk]
    assert fresh.pk not in woken

    # when: a worker takes the orphaned run over
    assert execute_run(orphaned.pk, "test") == RunStatus.SUCCEEDED

    # then
    orphaned.refresh_from_db()
    assert orphaned.status == RunStatus.SUCCEEDED, orphaned.error
    assert (orphaned.attempt, orphaned.worker) == (2, "test")
    assert StepRun.objects.get(run=orphaned).run_attempt == 2
    # and a second sweep finds nothing more to wake
    woken.clear()
    assert sweep() == Sweep(orphaned=0, due=0, requeued=0)
    assert woken == []
