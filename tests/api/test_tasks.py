"""Review tasks over the API: who sees which, claiming, values, approvals,
dismissal and retry, with the services' refusals in their words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from integrations import services
from integrations.models import (
    Flow,
    FlowRun,
    ReviewTask,
    RunStatus,
    TaskKind,
    TaskStatus,
)
from tests.api.conftest import assert_error, client_with_token
from tests.factories import UserFactory
from tests.integrations.flows import drain
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = {
    "key": "note",
    "type": "set",
    "variables": [{"name": "order", "expression": "trigger.order"}],
}
FIELDS = {
    "amount": {"type": "integer", "title": "Amount"},
    "currency": {"type": "string", "title": "Currency", "enum": ["EUR", "USD"]},
    "note": {"type": ["string", "null"], "title": "Note"},
}


def manual_flow(user: Any, name: str = "Pay invoices") -> Flow:
    return services.create_flow(
        name, {"trigger": {"type": "manual"}, "steps": [NOTE]}, user
    )


def stopped_run(user: Any) -> FlowRun:
    """A run a reviewer can fix: it was stopped, so it may be replayed."""
    run, _ = services.start_run(manual_flow(user), {"order": "A-1"}, user)
    return services.cancel_run(run, user)


def task(run: FlowRun, **fields: Any) -> ReviewTask:
    values: dict[str, Any] = {
        "kind": TaskKind.FAILED_TRANSFER,
        "run": run,
        "flow_id": run.flow_id,
        "step_key": f"step-{ReviewTask.objects.count()}",
        "queue": roles.REVIEWER,
        "title": "Pay invoices: “File the invoice” failed",
        "reason": "Content Server answered 503.",
        "business_object": "invoice:INV-1001",
        "system": "otcs",
        "due_at": timezone.now() + timedelta(hours=4),
    }
    values.update(fields)
    return ReviewTask.objects.create(**values)


def approval_run(api: dict[str, Any]) -> tuple[FlowRun, ReviewTask]:
    """A run started by the admin that waits for a reviewer's approval."""
    admin = api["admin"].user
    flow = services.create_flow(
        "Pay with approval",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "approve",
                    "type": "approval",
                    "group": roles.REVIEWER,
                    "title": "Approve the payment",
                },
                NOTE,
            ],
        },
        admin,
    )
    made = api["admin"].post(
        "/api/v1/runs/", {"flow": flow.pk, "payload": {"order": "A-9"}}, format="json"
    )
    drain()
    run = FlowRun.objects.get(pk=made.json()["id"])
    return run, ReviewTask.objects.get(run=run)


# --- Who sees which task ------------------------------------------------------------


def test_a_reviewer_sees_the_tasks_of_their_queues_only(api, woken):
    # given
    run = stopped_run(api["admin"].user)
    ours = task(run)
    Group.objects.create(name="Legal")
    legal = task(run, queue="Legal", title="Legal review")

    # when
    mine = api["reviewer"].get("/api/v1/tasks/")
    everything = api["admin"].get("/api/v1/tasks/")
    viewer = api["viewer"].get("/api/v1/tasks/")

    # then
    assert [t["id"] for t in mine.json()["results"]] == [ours.pk]
    assert [t["id"] for t in everything.json()["results"]] == [legal.pk, ours.pk]
    assert viewer.status_code == 200 and viewer.json()["results"] == []
    assert_error(api["reviewer"].get(f"/api/v1/tasks/{legal.pk}/"), 404, "not_found")
    claim = api["reviewer"].post(f"/api/v1/tasks/{legal.pk}/claim/")
    assert_error(claim, 404, "not_found")
    assert_error(api["anonymous"].get("/api/v1/tasks/"), 401, "not_authenticated")


def test_one_task_shows_what_it_is_about(api, woken):
    # given: incomplete metadata, the run holding the currency already
    run = stopped_run(api["admin"].user)
    FlowRun.objects.filter(pk=run.pk).update(payload={"currency": "EUR"})
    one = task(
        run,
        kind=TaskKind.INCOMPLETE_METADATA,
        needed={"fields": FIELDS, "errors": ["The amount is missing."]},
    )

    # when
    answer = api["reviewer"].get(f"/api/v1/tasks/{one.pk}/")

    # then
    assert answer.status_code == 200
    body = answer.json()
    assert {k: body[k] for k in ("kind", "status", "run", "queue")} == {
        "kind": "incomplete_metadata",
        "status": "open",
        "run": run.pk,
        "queue": roles.REVIEWER,
    }
    assert (body["business_object"], body["problems"]) == (
        "invoice:INV-1001",
        ["The amount is missing."],
    )
    assert [
        (f["name"], f["type"], f["required"], f["choices"], f["value"])
        for f in body["fields"]
    ] == [
        ("amount", "integer", True, None, None),
        ("currency", "string", True, ["EUR", "USD"], "EUR"),
        ("note", "string", False, None, None),
    ]


def test_the_list_filters_like_the_inbox(api, woken):
    run = stopped_run(api["admin"].user)
    failed = task(run)
    approval = task(
        run,
        kind=TaskKind.APPROVAL,
        business_object="order:A-77",
        title="Approve the payment",
    )
    done = task(run, status=TaskStatus.DISMISSED, business_object="order:A-78")

    def ids(**query: Any) -> list[int]:
        answer = api["reviewer"].get("/api/v1/tasks/", query)
        assert answer.status_code == 200, answer.content
        return [t["id"] for t in answer.json()["results"]]

    assert ids() == [done.pk, approval.pk, failed.pk]
    assert ids(kind="approval") == [approval.pk]
    assert ids(status="open") == [approval.pk, failed.pk]
    assert ids(q="a-7") == [done.pk, approval.pk]
    assert ids(q="approve THE") == [approval.pk]
    assert ids(queue=roles.REVIEWER) == [done.pk, approval.pk, failed.pk]
    assert ids(queue="Legal") == []


@pytest.mark.parametrize(
    ("query", "field"), [({"kind": "bug"}, "kind"), ({"status": "new"}, "status")]
)
def test_a_bad_task_filter_is_a_400(api, query, field):
    answer = api["reviewer"].get("/api/v1/tasks/", query)

    assert list(assert_error(answer, 400, "invalid")["fields"]) == [field]


# --- Claiming ----------------------------------------------------------------------


def test_a_reviewer_claims_and_gives_back_a_task(api, woken):
    one = task(stopped_run(api["admin"].user))
    rob = client_with_token(UserFactory(username="rob", role=roles.REVIEWER))

    claimed = api["reviewer"].post(f"/api/v1/tasks/{one.pk}/claim/")
    taken = rob.post(f"/api/v1/tasks/{one.pk}/claim/")
    not_his = rob.post(f"/api/v1/tasks/{one.pk}/unclaim/")
    back = api["reviewer"].post(f"/api/v1/tasks/{one.pk}/unclaim/")

    assert claimed.status_code == 200, claimed.content
    assert (claimed.json()["status"], claimed.json()["assignee"]) == ("claimed", "rita")
    assert assert_error(taken, 409, "conflict")["message"] == (
        "rita claimed this task already; ask them or an integration admin "
        "to hand it over."
    )
    assert "only they or an integration admin" in not_his.json()["message"]
    assert not_his.status_code == 409
    assert (back.json()["status"], back.json()["assignee"]) == ("open", None)


@pytest.mark.parametrize("role", ["viewer", "auditor"])
@pytest.mark.parametrize(
    "what", ["claim", "unclaim", "resolve", "approve", "reject", "dismiss", "retry"]
)
def test_viewers_and_auditors_only_read_tasks(api, woken, role, what):
    one = task(stopped_run(api["admin"].user), queue=roles.VIEWER)
    viewer_visible = api["viewer"].get(f"/api/v1/tasks/{one.pk}/")
    assert viewer_visible.status_code == 200  # in the Viewer's queue: visible

    answer = api[role].post(f"/api/v1/tasks/{one.pk}/{what}/", {}, format="json")

    assert_error(answer, 403, "permission_denied")
    one.refresh_from_db()
    assert (one.status, one.assignee) == (TaskStatus.OPEN, None)


# --- Fixing ------------------------------------------------------------------------


def test_values_are_checked_then_the_run_goes_on_with_them(api, woken):
    # given
    run = stopped_run(api["admin"].user)
    one = task(run, kind=TaskKind.INCOMPLETE_METADATA, needed={"fields": FIELDS})
    url = f"/api/v1/tasks/{one.pk}/resolve/"

    # when: wrong values
    wrong = api["reviewer"].post(
        url,
        {"values": {"amount": "twelve", "currency": "GBP", "colour": "red"}},
        format="json",
    )

    # then: each field says why, and nothing is saved
    assert assert_error(wrong, 400, "invalid")["fields"] == {
        "values.amount": ["Enter a whole number, like 42."],
        "values.currency": ["Choose one of EUR, USD."],
        "values.colour": ["This step does not need this field."],
    }
    one.refresh_from_db()
    assert one.status == TaskStatus.OPEN and FlowRun.objects.count() == 1

    # when: good values
    fixed = api["reviewer"].post(
        url,
        {"values": {"amount": "12", "currency": "EUR"}, "comment": "From the PO"},
        format="json",
    )

    # then: the run goes on as a new run, with the values
    assert fixed.status_code == 200, fixed.content
    body = fixed.json()
    assert (body["task"]["status"], body["task"]["decision"]) == ("resolved", "fixed")
    assert (body["task"]["resolved_by"], body["task"]["comment"]) == (
        "rita",
        "From the PO",
    )
    assert (body["run"]["status"], body["run"]["replay_of"]) == ("queued", run.pk)
    new_run = FlowRun.objects.get(pk=body["run"]["id"])
    overrides = new_run.context["overrides"][one.step_key]
    assert overrides == {"amount": 12, "currency": "EUR"}

    # when: the same task again
    again = api["reviewer"].post(url, {"values": {"amount": 1}}, format="json")

    # then
    assert assert_error(again, 409, "conflict")["message"].startswith(
        "This task was already resolved by rita"
    )


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({}, "values"),
        ({"values": [1]}, "values"),
        ({"values": {}, "comment": "x" * 2001}, "comment"),
        ({"values": {}, "comment": 12}, "comment"),
    ],
)
def test_resolve_checks_its_body(api, woken, request_body, field):
    one = task(stopped_run(api["admin"].user), kind=TaskKind.INCOMPLETE_METADATA)

    answer = api["reviewer"].post(
        f"/api/v1/tasks/{one.pk}/resolve/", request_body, format="json"
    )

    assert list(assert_error(answer, 400, "invalid")["fields"]) == [field]


def test_a_failed_transfer_is_retried_as_a_new_run(api, woken):
    run = stopped_run(api["admin"].user)
    one = task(run)

    answer = api["reviewer"].post(
        f"/api/v1/tasks/{one.pk}/retry/", {"version": "pinned"}, format="json"
    )

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["task"]["status"], body["task"]["decision"]) == ("resolved", "retried")
    assert (body["run"]["replay_of"], body["run"]["version"]) == (run.pk, 1)
    bad = api["reviewer"].post(
        f"/api/v1/tasks/{one.pk}/retry/", {"version": "same"}, format="json"
    )
    assert list(assert_error(bad, 400, "invalid")["fields"]) == ["version"]


def test_the_wrong_fix_for_a_task_is_refused_in_words(api, woken):
    one = task(stopped_run(api["admin"].user))

    answer = api["reviewer"].post(
        f"/api/v1/tasks/{one.pk}/resolve/", {"values": {}}, format="json"
    )
    approve = api["reviewer"].post(f"/api/v1/tasks/{one.pk}/approve/")

    assert assert_error(answer, 409, "conflict")["message"] == (
        "This is a “Failed transfer” task; it is not fixed that way."
    )
    assert assert_error(approve, 409, "conflict")["message"] == (
        "Only an approval or a reconciliation mismatch is approved or rejected."
    )


def test_a_task_is_dismissed_with_a_reason(api, woken):
    one = task(stopped_run(api["admin"].user))
    url = f"/api/v1/tasks/{one.pk}/dismiss/"

    no_reason = api["reviewer"].post(url, {"reason": " \u0085 "}, format="json")
    dismissed = api["reviewer"].post(url, {"reason": " Sent by mail "}, format="json")
    again = api["reviewer"].post(url, {"reason": "Sent by mail"}, format="json")

    assert assert_error(no_reason, 400, "invalid")["fields"] == {
        "reason": ["Say why nothing needs to be done: the reason is kept."]
    }
    assert dismissed.status_code == 200, dismissed.content
    assert (dismissed.json()["status"], dismissed.json()["comment"]) == (
        "dismissed",
        "Sent by mail",
    )
    assert again.status_code == 409
    assert again.json()["message"].startswith("This task was already dismissed by rita")


# --- Approvals ---------------------------------------------------------------------


def test_an_approval_is_not_approved_by_its_requester(api, woken):
    # given: the admin started the run that waits for approval
    run, one = approval_run(api)
    assert (run.status, one.kind, one.requested_by) == (
        RunStatus.WAITING,
        TaskKind.APPROVAL,
        api["admin"].user,
    )

    # when
    answer = api["admin"].post(
        f"/api/v1/tasks/{one.pk}/approve/", {"comment": "Mine"}, format="json"
    )

    # then: separation of duties
    assert assert_error(answer, 403, "permission_denied")["message"] == (
        "You started this run, so someone else has to approve or reject it."
    )
    one.refresh_from_db()
    assert one.status == TaskStatus.OPEN


def test_a_reviewer_approves_and_the_run_finishes(api, woken):
    # given
    run, one = approval_run(api)

    # when
    answer = api["reviewer"].post(
        f"/api/v1/tasks/{one.pk}/approve/", {"comment": "Fine"}, format="json"
    )
    drain()

    # then
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["task"]["status"], body["task"]["decision"]) == (
        "resolved",
        "approved",
    )
    assert body["run"]["id"] == run.pk
    shown = api["viewer"].get(f"/api/v1/runs/{run.pk}/").json()
    assert shown["status"] == "succeeded", shown["error"]
    assert [s["key"] for s in shown["steps"]][-1] == "note"
    assert shown["tasks"] == []


def test_a_rejection_needs_a_comment_and_fails_the_run(api, woken):
    # given
    _, one = approval_run(api)
    url = f"/api/v1/tasks/{one.pk}/reject/"

    # when
    silent = api["reviewer"].post(url, {}, format="json")
    rejected = api["reviewer"].post(
        url, {"comment": "The amount is wrong"}, format="json"
    )

    # then
    assert assert_error(silent, 400, "invalid")["fields"] == {
        "comment": ["Say why you reject it: the person who asked reads this."]
    }
    assert rejected.status_code == 200, rejected.content
    body = rejected.json()
    assert (body["task"]["status"], body["task"]["comment"]) == (
        "rejected",
        "The amount is wrong",
    )
    assert (body["run"]["status"], body["run"]["error"]) == (
        "failed",
        "Rejected by rita: The amount is wrong",
    )
    retry = api["reviewer"].post(f"/api/v1/tasks/{one.pk}/retry/")
    assert retry.status_code == 409
