"""Runs and transfers over the API: start a run and watch it finish, the run
list's filters, replay and cancel, per role; secrets never in a run."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from integrations import services
from integrations.models import (
    AttemptOutcome,
    Flow,
    FlowRun,
    RunStatus,
    Transfer,
    TransferAttempt,
    TransferStatus,
)
from tests.api.conftest import assert_error
from tests.integrations.flows import drain, rule

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = {
    "key": "note",
    "type": "set",
    "name": "Note the order",
    "variables": [{"name": "order", "expression": "trigger.order"}],
}


def manual_flow(user: Any, name: str = "Pay invoices") -> Flow:
    return services.create_flow(
        name,
        {
            "trigger": {"type": "manual"},
            "business_key": '"order:" & trigger.order',
            "steps": [NOTE],
        },
        user,
    )


def started(flow: Flow, user: Any, order: str = "A-1") -> FlowRun:
    run, _ = services.start_run(flow, {"order": order}, user)
    return run


# --- Starting a run ---------------------------------------------------------------


def test_a_run_started_over_the_api_finishes_and_shows_its_steps(api, woken):
    # given
    flow = manual_flow(api["admin"].user)

    # when
    answer = api["admin"].post(
        "/api/v1/runs/",
        {"flow": flow.pk, "payload": {"order": "A-1042"}},
        format="json",
    )

    # then: it is queued, for a worker
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["status"], body["flow"], body["flow_name"]) == (
        "queued",
        flow.pk,
        "Pay invoices",
    )
    assert (body["trigger_kind"], body["started_by"], body["version"]) == (
        "manual",
        "ada",
        1,
    )
    assert body["business_key"] == "order:A-1042"
    assert body["payload"] == {"order": "A-1042"}
    assert body["steps"] == []
    assert woken == [body["id"]]

    # when: the worker ran it
    drain()
    shown = api["viewer"].get(f"/api/v1/runs/{body['id']}/")

    # then
    assert shown.status_code == 200
    run = shown.json()
    assert (run["status"], run["error"]) == ("succeeded", "")
    assert run["finished_at"] is not None
    [step] = run["steps"]
    assert {k: step[k] for k in ("key", "label", "type", "status", "attempt")} == {
        "key": "note",
        "label": "Note the order",
        "type": "set",
        "status": "succeeded",
        "attempt": 1,
    }
    assert step["output"] == {"order": "A-1042"}
    assert step["http_status"] is None and step["error"] == ""
    steps = api["auditor"].get(f"/api/v1/runs/{body['id']}/steps/")
    assert steps.status_code == 200
    assert [s["key"] for s in steps.json()] == ["note"]


def test_the_same_idempotency_key_starts_one_run(api, woken):
    flow = manual_flow(api["admin"].user)
    request = {"flow": flow.pk, "payload": {"order": "A-1"}, "idempotency_key": "k1"}

    first = api["admin"].post("/api/v1/runs/", request, format="json")
    second = api["admin"].post("/api/v1/runs/", request, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert FlowRun.objects.count() == 1


@pytest.mark.parametrize("role", ["reviewer", "auditor", "viewer"])
def test_only_an_admin_starts_runs(api, woken, role):
    flow = manual_flow(api["admin"].user)

    answer = api[role].post("/api/v1/runs/", {"flow": flow.pk}, format="json")

    assert_error(answer, 403, "permission_denied")
    assert FlowRun.objects.count() == 0


def test_starting_needs_a_token(api, woken):
    flow = manual_flow(api["admin"].user)

    answer = api["anonymous"].post("/api/v1/runs/", {"flow": flow.pk}, format="json")

    assert_error(answer, 401, "not_authenticated")


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"payload": {}}, "flow"),
        ({"flow": 0}, "flow"),
        ({"flow": "1"}, "flow"),
        ({"flow": True}, "flow"),
        ({"flow": "one"}, "flow"),
        ({"flow": 10**30}, "flow"),
        ({"flow": "FLOW", "payload": ["not", "an", "object"]}, "payload"),
        ({"flow": "FLOW", "payload": "text"}, "payload"),
        ({"flow": "FLOW", "idempotency_key": "k" * 201}, "idempotency_key"),
    ],
)
def test_a_start_with_bad_input_names_the_field(api, woken, request_body, field):
    flow = manual_flow(api["admin"].user)
    if request_body.get("flow") == "FLOW":
        request_body = {**request_body, "flow": flow.pk}

    answer = api["admin"].post("/api/v1/runs/", request_body, format="json")

    body = assert_error(answer, 400, "invalid")
    assert list(body["fields"]) == [field]
    assert FlowRun.objects.count() == 0


def test_an_unknown_flow_is_a_404_in_words(api, woken):
    answer = api["admin"].post("/api/v1/runs/", {"flow": 999_999}, format="json")

    body = assert_error(answer, 404, "not_found")
    assert body["message"] == "There is no flow 999999."


def test_a_flow_without_a_published_version_cannot_run(api, woken):
    flow = Flow.objects.create(name="Not ready", owner=api["admin"].user)

    answer = api["admin"].post("/api/v1/runs/", {"flow": flow.pk}, format="json")

    body = assert_error(answer, 409, "conflict")
    assert body["message"] == "Publish a version of the flow before running it."


# --- The list and one run -----------------------------------------------------------


def test_the_list_is_newest_first_and_filtered_like_the_run_list(api, woken):
    # given: two flows' runs, one of them old and one cancelled
    admin = api["admin"].user
    pay, bill = manual_flow(admin), manual_flow(admin, "Bill customers")
    old = started(pay, admin, "A-1")
    FlowRun.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    second = started(pay, admin, "B-2")
    third = started(bill, admin, "A-3")
    services.cancel_run(third, admin)

    def ids(**query: Any) -> list[int]:
        answer = api["viewer"].get("/api/v1/runs/", query)
        assert answer.status_code == 200, answer.content
        return [run["id"] for run in answer.json()["results"]]

    # then
    assert ids() == [third.pk, second.pk, old.pk]
    assert ids(flow=pay.pk) == [second.pk, old.pk]
    assert ids(status="cancelled") == [third.pk]
    assert ids(q="order:a-") == [third.pk, old.pk]
    assert ids(since="24h") == [third.pk, second.pk]
    assert ids(since="7d", status="queued", flow=pay.pk) == [second.pk, old.pk]
    listed = api["viewer"].get("/api/v1/runs/").json()["results"][0]
    assert (listed["status"], listed["status_label"]) == ("cancelled", "Cancelled")
    assert "steps" not in listed and "payload" not in listed


def test_the_list_pages_by_cursor(api, woken):
    admin = api["admin"].user
    flow = manual_flow(admin)
    runs = [started(flow, admin, f"A-{n}") for n in range(3)]

    first = api["viewer"].get("/api/v1/runs/", {"page_size": 2}).json()
    second = api["viewer"].get(first["next"]).json()

    assert [r["id"] for r in first["results"]] == [runs[2].pk, runs[1].pk]
    assert [r["id"] for r in second["results"]] == [runs[0].pk]
    assert second["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "done"}, "status"),
        ({"since": "2d"}, "since"),
        ({"flow": "abc"}, "flow"),
        ({"flow": "0"}, "flow"),
        ({"flow": ""}, "flow"),
        ({"status": ""}, "status"),
        ({"q": "a\x00b"}, "q"),
        ({"flow": str(10**30)}, "flow"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(api, query, field):
    answer = api["viewer"].get("/api/v1/runs/", query)

    body = assert_error(answer, 400, "invalid")
    assert list(body["fields"]) == [field]


def test_runs_need_a_token_and_unknown_ones_are_404(api, woken):
    assert_error(api["anonymous"].get("/api/v1/runs/"), 401, "not_authenticated")
    assert_error(api["viewer"].get("/api/v1/runs/424242/"), 404, "not_found")
    huge = api["viewer"].get(f"/api/v1/runs/{10**25}/")
    assert_error(huge, 404, "not_found")
    assert_error(api["viewer"].get("/api/v1/runs/424242/steps/"), 404, "not_found")


def test_a_run_against_a_system_shows_no_secret(api, systems, woken):
    # given: a flow that posts to the orders API (a bearer token) by hand
    flow = services.create_flow(
        "Echo",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "send",
                    "type": "action",
                    "connection": systems.orders.pk,
                    "action": "request",
                    "mapping": [
                        rule("method", '"POST"'),
                        rule("path", '"echo"'),
                        rule("body", '{"order": trigger.order}'),
                    ],
                }
            ],
        },
        api["admin"].user,
    )
    made = api["admin"].post(
        "/api/v1/runs/", {"flow": flow.pk, "payload": {"order": "A-7"}}, format="json"
    )
    drain()

    # when
    shown = api["viewer"].get(f"/api/v1/runs/{made.json()['id']}/")

    # then: it ran against the emulator, and no secret is in the answer
    run = shown.json()
    assert run["status"] == "succeeded", run["error"]
    [step] = run["steps"]
    assert (step["system"], step["error"]) == ("http", "")
    assert step["input"] == {"method": "POST", "path": "echo", "body": {"order": "A-7"}}
    assert (step["output"]["status"], step["output"]["body"]["json"]) == (
        200,
        {"order": "A-7"},
    )
    assert "sandbox-token" not in shown.content.decode()
    assert "sandbox-admin" not in shown.content.decode()


# --- Replay and cancel --------------------------------------------------------------


def test_a_cancelled_run_is_replayed_as_a_new_run(api, woken):
    # given
    admin = api["admin"].user
    run = started(manual_flow(admin), admin)

    # when: cancelled, then replayed on the latest version
    cancelled = api["admin"].post(
        f"/api/v1/runs/{run.pk}/cancel/", {"comment": "Wrong order"}, format="json"
    )
    replayed = api["admin"].post(
        f"/api/v1/runs/{run.pk}/replay/",
        {"from_step": "start", "version": "latest"},
        format="json",
    )

    # then
    assert cancelled.status_code == 200, cancelled.content
    assert (cancelled.json()["id"], cancelled.json()["status"]) == (
        run.pk,
        "cancelled",
    )
    assert replayed.status_code == 201, replayed.content
    new = replayed.json()
    assert (new["status"], new["replay_of"], new["started_by"]) == (
        "queued",
        run.pk,
        "ada",
    )
    old = api["viewer"].get(f"/api/v1/runs/{run.pk}/").json()
    assert (old["status"], old["replays"]) == ("replayed", [new["id"]])


def test_a_run_in_the_wrong_state_is_refused_in_words(api, woken):
    admin = api["admin"].user
    run = started(manual_flow(admin), admin)

    replay = api["admin"].post(f"/api/v1/runs/{run.pk}/replay/", {}, format="json")
    api["admin"].post(f"/api/v1/runs/{run.pk}/cancel/", {}, format="json")
    again = api["admin"].post(f"/api/v1/runs/{run.pk}/cancel/", {}, format="json")

    assert assert_error(replay, 409, "conflict")["message"] == (
        f"Run {run.pk} is queued; only a run that needs review, failed or was "
        "cancelled can be replayed."
    )
    assert assert_error(again, 409, "conflict")["message"] == (
        f"Run {run.pk} is cancelled and cannot be cancelled."
    )


@pytest.mark.parametrize("role", ["reviewer", "auditor", "viewer"])
@pytest.mark.parametrize("what", ["replay", "cancel"])
def test_only_an_admin_replays_or_cancels(api, woken, role, what):
    admin = api["admin"].user
    run = started(manual_flow(admin), admin)

    answer = api[role].post(f"/api/v1/runs/{run.pk}/{what}/", {}, format="json")

    assert_error(answer, 403, "permission_denied")
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED


@pytest.mark.parametrize(
    ("what", "request_body", "field"),
    [
        ("replay", {"version": "same"}, "version"),
        ("replay", {"from_step": "middle"}, "from_step"),
        ("cancel", {"comment": "x" * 2001}, "comment"),
        ("cancel", {"comment": 42}, "comment"),
    ],
)
def test_replay_and_cancel_check_their_input(api, woken, what, request_body, field):
    admin = api["admin"].user
    run = started(manual_flow(admin), admin)

    answer = api["admin"].post(
        f"/api/v1/runs/{run.pk}/{what}/", request_body, format="json"
    )

    assert list(assert_error(answer, 400, "invalid")["fields"]) == [field]


def test_replaying_an_unknown_run_is_404(api):
    answer = api["admin"].post("/api/v1/runs/424242/replay/", {}, format="json")

    assert_error(answer, 404, "not_found")


# --- Transfers ----------------------------------------------------------------------


def ledger(run: FlowRun, source_id: str, **fields: Any) -> Transfer:
    content = source_id.encode()
    values: dict[str, Any] = {
        "flow_id": run.flow_id,
        "run": run,
        "source_system": "D365",
        "source_id": source_id,
        "source_version": "1",
        "name": f"{source_id}.pdf",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "target_system": "otcs",
        "step_key": "file",
    }
    values.update(fields)
    return Transfer.objects.create(**values)


def test_transfers_are_listed_with_filters_and_their_tries(api, woken):
    # given: a run that filed one document and failed with another
    admin = api["admin"].user
    flow = manual_flow(admin)
    run, other = started(flow, admin), started(flow, admin, "A-2")
    done = ledger(run, "contract-1", status=TransferStatus.DONE, target_ref="otcs:4711")
    failed = ledger(other, "contract-2", source_system="SAP", status="failed")
    TransferAttempt.objects.create(
        transfer=failed,
        run=other,
        run_attempt=1,
        outcome=AttemptOutcome.FAILED,
        http_status=503,
        error="Content Server answered 503.",
    )

    def ids(**query: Any) -> list[int]:
        answer = api["auditor"].get("/api/v1/transfers/", query)
        assert answer.status_code == 200, answer.content
        return [t["id"] for t in answer.json()["results"]]

    # then
    assert ids() == [failed.pk, done.pk]
    assert ids(status="done") == [done.pk]
    assert ids(run=other.pk) == [failed.pk]
    assert ids(source_system="SAP") == [failed.pk]
    assert ids(sha256=done.sha256.upper()) == [done.pk]
    one = api["viewer"].get(f"/api/v1/transfers/{failed.pk}/").json()
    assert {k: one[k] for k in ("source_system", "source_id", "status", "size")} == {
        "source_system": "SAP",
        "source_id": "contract-2",
        "status": "failed",
        "size": 10,
    }
    assert one["attempts"] == [
        {
            "run": other.pk,
            "run_attempt": 1,
            "outcome": "failed",
            "http_status": 503,
            "error": "Content Server answered 503.",
            "started_at": one["attempts"][0]["started_at"],
            "finished_at": None,
        }
    ]
    shown = api["viewer"].get(f"/api/v1/runs/{run.pk}/").json()
    assert [(t["id"], t["target_ref"]) for t in shown["transfers"]] == [
        (done.pk, "otcs:4711")
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sha256": "abc"}, "sha256"),
        ({"status": "sent"}, "status"),
        ({"run": "-1"}, "run"),
        ({"run": ""}, "run"),
    ],
)
def test_a_bad_transfer_filter_is_a_400(api, query, field):
    answer = api["viewer"].get("/api/v1/transfers/", query)

    assert list(assert_error(answer, 400, "invalid")["fields"]) == [field]


def test_transfers_need_a_token_and_are_read_only(api):
    assert_error(api["anonymous"].get("/api/v1/transfers/"), 401, "not_authenticated")
    assert_error(api["viewer"].get("/api/v1/transfers/9/"), 404, "not_found")
    answer = api["admin"].post("/api/v1/transfers/", {}, format="json")
    assert_error(answer, 405, "method_not_allowed")
