"""What starts runs: webhooks (once per event), polls, schedules, the end of
another flow, and the connection-level hook address."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from audit.services import Actor
from connectors import services as connection_services
from integrations import services, triggers
from integrations.models import (
    FlowRun,
    FlowStatus,
    ReviewTask,
    RunStatus,
    TriggerState,
)
from tests.factories import UserFactory
from tests.integrations.flows import (
    HOOK_SECRET,
    account_event,
    contract_flow,
    deliver,
    drain,
)
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = {
    "key": "note",
    "type": "set",
    "variables": [{"name": "seen", "expression": "true"}],
}


def flow_with(user: Any, trigger: dict[str, Any], name: str, **options: Any) -> Any:
    return services.create_flow(
        name, {"trigger": trigger, "steps": [NOTE]}, user, **options
    )


# --- Webhooks ----------------------------------------------------------------


def test_an_event_delivered_five_times_starts_one_run(systems, admin_user, woken):
    # given
    flow = contract_flow(systems, admin_user)
    event = account_event(11)
    answers: list[requests.Response] = []
    barrier = threading.Barrier(3)

    def send() -> None:
        barrier.wait()
        answers.append(deliver(systems, flow, event))

    # when: three deliveries at once, then two more
    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    answers += [deliver(systems, flow, event) for _ in range(2)]

    # then
    run = FlowRun.objects.get()
    assert sorted(answer.status_code for answer in answers) == [200] * 4 + [202]
    assert sorted(answer.json()["status"] for answer in answers) == [
        "accepted",
        *["duplicate"] * 4,
    ]
    assert {answer.json()["run_id"] for answer in answers} == {run.pk}
    assert {answer.json()["event_id"] for answer in answers} == {"msg-11"}
    assert woken == [run.pk]


def test_a_paused_flow_asks_the_sender_to_come_back_later(systems, admin_user, woken):
    # given
    flow = contract_flow(systems, admin_user)
    services.set_status(flow, FlowStatus.PAUSED, admin_user)

    # when
    answer = deliver(systems, flow, account_event(12))

    # then
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "300"
    assert answer.json() == {
        "error": "The flow “File account contracts” is paused. Send the event "
        "again later."
    }
    assert FlowRun.objects.count() == 0


def test_the_connection_hook_starts_the_active_flows_that_use_it(
    systems, admin_user, woken
):
    # given: an active and a draft flow on the webhook connection
    trigger = {"type": "webhook", "connection": systems.hook.pk}
    active = flow_with(admin_user, trigger, "Active", activate=True)
    flow_with(admin_user, trigger, "Draft")

    # when
    answer = requests.post(
        f"{systems.url}/hooks/{systems.hook.pk}/",
        json=account_event(13),
        headers={"X-Webhook-Secret": HOOK_SECRET},
        timeout=30,
    )
    again = requests.post(
        f"{systems.url}/hooks/{systems.hook.pk}/",
        json=account_event(13),
        headers={"X-Webhook-Secret": HOOK_SECRET},
        timeout=30,
    )

    # then: one run, of the active flow only
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"status": "accepted", "event_id": "msg-13"}
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "event_id": "msg-13"}
    run = FlowRun.objects.get()
    assert (run.flow_id, run.trigger_kind, run.event_id) == (
        active.pk,
        "webhook",
        "msg-13",
    )
    assert run.payload["body"]["MessageId"] == "msg-13"
    drain()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error


# --- Polling -----------------------------------------------------------------


@pytest.fixture
def files_root(settings, tmp_path) -> Path:
    root = tmp_path / "files"
    root.mkdir()
    settings.XCONNECTOR_FILES_ROOT = root
    settings.XCONNECTOR_BLOB_DIR = tmp_path / "blobs"
    return root


def files_connection(user: Any, folder: str) -> Any:
    return connection_services.create_connection(
        Actor.user(user),
        connector_key="files",
        name=f"Drop folder {folder}",
        settings={"folder": folder, "min_age_seconds": 0},
        secrets={},
    )


def poll_flow(user: Any, connection: Any) -> Any:
    return flow_with(
        user,
        {"type": "poll", "connection": connection.pk, "trigger": "new_file"},
        "Dropped files",
        activate=True,
    )


def test_a_dropped_file_starts_one_run_however_often_it_is_polled(
    files_root, admin_user, woken
):
    # given
    connection = files_connection(admin_user, "inbox")
    flow = poll_flow(admin_user, connection)
    (files_root / "inbox").mkdir(exist_ok=True)
    content = b"invoice 42\n" * 10
    (files_root / "inbox" / "invoice-42.txt").write_bytes(content)

    # when
    first = triggers.poll(flow.pk)
    second = triggers.poll(flow.pk)

    # then
    assert (first, second) == (1, 0)
    run = FlowRun.objects.get()
    assert run.trigger_kind == "poll"
    assert run.payload["name"] == "invoice-42.txt"
    assert run.payload["size"] == len(content)
    [document] = run.context["documents"]["trigger"]
    assert (document["name"], document["size"], document["sha256"]) == (
        "invoice-42.txt",
        len(content),
        hashlib.sha256(content).hexdigest(),
    )
    state = TriggerState.objects.get(flow=flow)
    assert state.last_polled_at is not None
    assert state.last_event_at is not None
    assert (state.last_error, state.failures_in_a_row, state.polling_until) == (
        "",
        0,
        None,
    )
    assert woken == [run.pk]


def test_a_dropped_file_moves_to_done_when_its_run_succeeds(
    files_root, admin_user, woken
):
    # given: a dropped file that a poll handed to a run
    connection = files_connection(admin_user, "inbox")
    flow = poll_flow(admin_user, connection)
    inbox = files_root / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "invoice-43.txt").write_bytes(b"invoice 43\n")
    assert triggers.poll(flow.pk) == 1

    # when
    drain()

    # then: the file is done with, and no later poll hands it out again
    run = FlowRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (inbox / "done" / "invoice-43.txt").read_bytes() == b"invoice 43\n"
    assert list((inbox / ".processing").iterdir()) == []
    assert triggers.poll(flow.pk) == 0
    assert FlowRun.objects.count() == 1


def test_a_failing_poll_records_its_error(files_root, admin_user, woken):
    # given: the watched folder's name is taken by a file
    connection = files_connection(admin_user, "blocked")
    flow = poll_flow(admin_user, connection)
    (files_root / "blocked").write_text("not a folder")

    # when
    results = [triggers.poll(flow.pk), triggers.poll(flow.pk)]

    # then
    assert results == [0, 0]
    state = TriggerState.objects.get(flow=flow)
    assert state.failures_in_a_row == 2
    assert state.last_error.startswith("The folder blocked cannot be created")
    assert state.last_polled_at is not None
    assert state.polling_until is None
    assert FlowRun.objects.count() == 0


def test_a_paused_poll_flow_does_not_poll(files_root, admin_user, woken):
    # given
    connection = files_connection(admin_user, "inbox")
    flow = poll_flow(admin_user, connection)
    services.set_status(flow, FlowStatus.PAUSED, admin_user)
    (files_root / "inbox").mkdir(exist_ok=True)
    (files_root / "inbox" / "a.txt").write_text("a")

    # when
    started = triggers.poll(flow.pk)

    # then
    assert started == 0
    assert FlowRun.objects.count() == 0
    assert (files_root / "inbox" / "a.txt").exists()


# --- Schedules ---------------------------------------------------------------


def test_a_schedule_gets_a_beat_entry_that_pausing_switches_off(admin_user, woken):
    # given
    flow = flow_with(
        admin_user,
        {"type": "schedule", "every_seconds": 3600},
        "Hourly",
        activate=True,
    )

    # then: an enabled beat entry every hour
    task = PeriodicTask.objects.get(name=f"flow-{flow.pk}-trigger")
    assert task.enabled is True
    assert task.task == "integrations.tasks.fire_schedule"
    assert task.args == f"[{flow.pk}]"
    assert (task.interval.every, task.interval.period) == (
        3600,
        IntervalSchedule.SECONDS,
    )
    assert TriggerState.objects.get(flow=flow).periodic_task_id == task.pk

    # when
    services.set_status(flow, FlowStatus.PAUSED, admin_user)

    # then
    task.refresh_from_db()
    assert task.enabled is False

    # when
    services.set_status(flow, FlowStatus.ACTIVE, admin_user)

    # then
    task.refresh_from_db()
    assert task.enabled is True
    assert PeriodicTask.objects.filter(name=f"flow-{flow.pk}-trigger").count() == 1


def test_a_schedule_fired_twice_in_one_slot_starts_one_run(admin_user, woken):
    # given
    flow = flow_with(
        admin_user,
        {"type": "schedule", "every_seconds": 3600},
        "Hourly",
        activate=True,
    )

    # when
    first = triggers.fire_schedule(flow.pk)
    second = triggers.fire_schedule(flow.pk)

    # then
    assert first is not None
    assert second is None
    run = FlowRun.objects.get()
    assert run.pk == first.pk
    assert run.trigger_kind == "schedule"
    assert run.event_id.startswith("schedule-")
    assert int(run.event_id.removeprefix("schedule-")) % 3600 == 0


def test_a_paused_schedule_starts_nothing(admin_user, woken):
    # given
    flow = flow_with(admin_user, {"type": "schedule", "every_seconds": 3600}, "Hourly")

    # when
    fired = triggers.fire_schedule(flow.pk)

    # then
    assert fired is None
    assert FlowRun.objects.count() == 0


# --- Flow finished -----------------------------------------------------------


def test_a_flow_that_follows_another_starts_when_its_run_succeeds(admin_user, woken):
    # given: B follows A's successful runs
    first = flow_with(admin_user, {"type": "manual"}, "A")
    follower = flow_with(
        admin_user, {"type": "flow_finished", "flow": first.pk}, "B", activate=True
    )
    run, _ = services.start_run(first, {"order": 5}, admin_user)

    # when
    drain()

    # then
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    child = FlowRun.objects.get(flow=follower)
    assert child.payload["run"]["id"] == run.pk
    assert child.payload["run"]["status"] == "succeeded"
    assert child.payload["run"]["trigger"] == {"order": 5}
    assert child.parent_run_id == run.pk
    assert (child.trigger_kind, child.event_id) == ("flow_finished", f"run-{run.pk}")
    assert child.status == RunStatus.SUCCEEDED, child.error


def test_a_follower_of_successes_does_not_start_on_a_failure(admin_user, woken):
    # given: A always stops for review
    first = services.create_flow(
        "A",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "never",
                    "type": "condition",
                    "expression": "false",
                    "otherwise": "fail",
                }
            ],
        },
        admin_user,
    )
    follower = flow_with(
        admin_user, {"type": "flow_finished", "flow": first.pk}, "B", activate=True
    )
    run, _ = services.start_run(first, {}, admin_user)

    # when
    drain()

    # then
    run.refresh_from_db()
    assert run.status == RunStatus.NEEDS_REVIEW
    assert FlowRun.objects.filter(flow=follower).count() == 0


def test_a_follower_of_failures_starts_when_an_approval_is_rejected(admin_user, woken):
    # given: B follows A's failed runs, and a run of A waits for approval
    first = services.create_flow(
        "A",
        {
            "trigger": {"type": "manual"},
            "steps": [{"key": "approve", "type": "approval"}],
        },
        admin_user,
    )
    follower = flow_with(
        admin_user,
        {"type": "flow_finished", "flow": first.pk, "on": ["failed"]},
        "B",
        activate=True,
    )
    run, _ = services.start_run(first, {"order": 6}, admin_user)
    drain()
    task = ReviewTask.objects.get(run=run)

    # when
    reviewer = UserFactory(username="rita", role=roles.REVIEWER)
    services.decide_approval(task, reviewer, approved=False, comment="No stock")

    # then
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    child = FlowRun.objects.get(flow=follower)
    assert child.payload["run"]["id"] == run.pk
    assert child.payload["run"]["status"] == "failed"
    assert child.parent_run_id == run.pk
