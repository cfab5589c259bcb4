"""The steps without a system behind them: set, condition, router, lookup,
wait and approval, in manual flows executed in process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from integrations import services
from integrations.engine.runner import execute_run
from integrations.models import (
    FlowRun,
    ReviewTask,
    RunStatus,
    StepRun,
    TaskKind,
    TaskStatus,
)
from tests.factories import UserFactory
from tests.integrations.flows import drain
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)


def manual_flow(user: Any, *steps: dict[str, Any], name: str = "Steps") -> Any:
    return services.create_flow(
        name, {"trigger": {"type": "manual"}, "steps": list(steps)}, user
    )


def step_keys(run: FlowRun) -> list[str]:
    return list(StepRun.objects.filter(run=run).values_list("step_key", flat=True))


def run_once(flow: Any, payload: dict[str, Any], user: Any) -> FlowRun:
    run, _ = services.start_run(flow, payload, user)
    drain()
    run.refresh_from_db()
    return run


CHANNEL_ROUTER = [
    {
        "key": "channel",
        "type": "router",
        "routes": [
            {"when": 'trigger.channel = "email"', "goto": "by_email"},
            {"when": 'trigger.channel = "print"', "goto": "by_print"},
        ],
    },
    {
        "key": "by_email",
        "type": "set",
        "next": "end",
        "variables": [{"name": "sent_by", "expression": '"mail server"'}],
    },
    {
        "key": "by_print",
        "type": "set",
        "variables": [{"name": "sent_by", "expression": '"print shop"'}],
    },
]

COUNTRIES = {
    "key": "country",
    "type": "lookup",
    "table": {"DE": "Germany", "FR": "France"},
    "lookup": "trigger.country",
    "into": "country_name",
}


def test_a_condition_that_is_false_stops_the_run_as_succeeded(admin_user, woken):
    # given: a flow that doubles an amount and goes on only above 100
    flow = manual_flow(
        admin_user,
        {
            "key": "compute",
            "type": "set",
            "variables": [{"name": "double", "expression": "trigger.amount * 2"}],
        },
        {
            "key": "big_enough",
            "type": "condition",
            "expression": "vars.double > 100",
            "message": "The amount is too small to file.",
        },
        {
            "key": "after",
            "type": "set",
            "variables": [{"name": "filed", "expression": "true"}],
        },
    )

    # when
    run = run_once(flow, {"amount": 10}, admin_user)

    # then: the run ended after the condition, with its reason
    assert run.status == RunStatus.SUCCEEDED
    assert run.error == "The amount is too small to file."
    assert run.context["vars"] == {"double": 20}
    assert run.context["steps"]["big_enough"] == {"result": False}
    assert step_keys(run) == ["compute", "big_enough"]
    assert woken == [run.pk]


def test_a_condition_that_is_true_goes_on(admin_user, woken):
    # given
    flow = manual_flow(
        admin_user,
        {"key": "big_enough", "type": "condition", "expression": "trigger.amount > 5"},
        {
            "key": "after",
            "type": "set",
            "variables": [{"name": "filed", "expression": "true"}],
        },
    )

    # when
    run = run_once(flow, {"amount": 10}, admin_user)

    # then
    assert run.status == RunStatus.SUCCEEDED
    assert run.error == ""
    assert run.context["vars"] == {"filed": True}
    assert step_keys(run) == ["big_enough", "after"]


def test_a_condition_that_fails_opens_a_review_task(admin_user, woken):
    # given
    flow = manual_flow(
        admin_user,
        {
            "key": "has_customer",
            "type": "condition",
            "expression": "$exists(trigger.customer)",
            "otherwise": "fail",
            "message": "The order names no customer.",
        },
        {
            "key": "after",
            "type": "set",
            "variables": [{"name": "filed", "expression": "true"}],
        },
    )

    # when
    run = run_once(flow, {"order": 1}, admin_user)

    # then
    assert run.status == RunStatus.NEEDS_REVIEW
    assert run.error == "The order names no customer."
    task = ReviewTask.objects.get(run=run)
    assert (task.kind, task.status, task.step_key, task.reason) == (
        TaskKind.FAILED_TRANSFER,
        TaskStatus.OPEN,
        "has_customer",
        "The order names no customer.",
    )
    assert task.queue == roles.REVIEWER
    assert list(StepRun.objects.filter(run=run).values_list("step_key", "status")) == [
        ("has_customer", "failed")
    ]


@pytest.mark.parametrize(
    ("channel", "taken", "sent_by"),
    [("email", "by_email", "mail server"), ("print", "by_print", "print shop")],
)
def test_a_router_takes_the_route_whose_rule_matches(
    admin_user, woken, channel, taken, sent_by
):
    # given
    flow = manual_flow(admin_user, *CHANNEL_ROUTER)

    # when
    run = run_once(flow, {"channel": channel}, admin_user)

    # then: one branch ran; "next: end" kept the email branch from the print one
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert step_keys(run) == ["channel", taken]
    assert run.context["vars"] == {"sent_by": sent_by}
    assert run.context["steps"]["channel"]["goto"] == taken


def test_a_router_without_a_matching_route_or_default_needs_review(admin_user, woken):
    # given
    flow = manual_flow(admin_user, *CHANNEL_ROUTER)

    # when
    run = run_once(flow, {"channel": "fax"}, admin_user)

    # then
    assert run.status == RunStatus.NEEDS_REVIEW
    assert run.error == ("No route of “Channel” matched and it has no default route.")
    assert step_keys(run) == ["channel"]


def test_a_lookup_keeps_the_value_it_found(admin_user, woken):
    # given
    flow = manual_flow(admin_user, COUNTRIES)

    # when
    run = run_once(flow, {"country": "DE"}, admin_user)

    # then
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.context["vars"] == {"country_name": "Germany"}
    assert StepRun.objects.get(run=run).input == {"lookup": "DE"}


def test_a_lookup_miss_needs_review_naming_the_key(admin_user, woken):
    # given
    flow = manual_flow(admin_user, COUNTRIES)

    # when
    run = run_once(flow, {"country": "IT"}, admin_user)

    # then
    assert run.status == RunStatus.NEEDS_REVIEW
    assert run.error == (
        "Step “Country”: “IT” is not in the lookup table (it knows DE, FR). "
        "Add it to the table, then replay the run."
    )
    assert ReviewTask.objects.get(run=run).status == TaskStatus.OPEN


def test_a_lookup_miss_with_a_default_goes_on(admin_user, woken):
    # given
    flow = manual_flow(admin_user, {**COUNTRIES, "default": "Elsewhere"})

    # when
    run = run_once(flow, {"country": "IT"}, admin_user)

    # then
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.context["vars"] == {"country_name": "Elsewhere"}


def test_a_wait_step_pauses_the_run_and_goes_on_when_due(admin_user, woken):
    # given
    flow = manual_flow(
        admin_user,
        {"key": "cool_down", "type": "wait", "seconds": 300},
        {
            "key": "after",
            "type": "set",
            "variables": [{"name": "done", "expression": "true"}],
        },
    )
    run, _ = services.start_run(flow, {}, admin_user)

    # when: executed once
    before = timezone.now()
    assert execute_run(run.pk, worker="test") == RunStatus.WAITING

    # then: it waits, holding no lease
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING
    assert run.lease_expires_at is None
    expected = before + timedelta(seconds=300)
    assert abs((run.next_attempt_at - expected).total_seconds()) < 5
    assert step_keys(run) == ["cool_down"]
    # and a worker that comes early does nothing
    assert execute_run(run.pk, worker="test") == "not claimable"

    # when: the wait is over
    due = timezone.now() - timedelta(seconds=1)
    FlowRun.objects.filter(pk=run.pk).update(
        next_attempt_at=due,
        context={**run.context, "waits": {"cool_down": due.isoformat()}},
    )
    assert execute_run(run.pk, worker="test") == RunStatus.SUCCEEDED

    # then
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.context["vars"] == {"done": True}
    assert list(StepRun.objects.filter(run=run).values_list("step_key", "status")) == [
        ("cool_down", "waiting"),
        ("cool_down", "succeeded"),
        ("after", "succeeded"),
    ]


def approval_flow(user: Any) -> Any:
    return manual_flow(
        user,
        {
            "key": "approve",
            "type": "approval",
            "title": "Approve the payment",
            "instructions": "Check the amount.",
        },
        {
            "key": "pay",
            "type": "set",
            "variables": [{"name": "paid", "expression": "trigger.amount"}],
        },
    )


def test_an_approval_step_waits_for_a_reviewer(admin_user, woken):
    # given
    flow = approval_flow(admin_user)

    # when
    run = run_once(flow, {"amount": 500}, admin_user)

    # then
    assert run.status == RunStatus.WAITING
    assert run.next_attempt_at is None
    task = ReviewTask.objects.get(run=run)
    assert (task.kind, task.status, task.queue, task.title, task.reason) == (
        TaskKind.APPROVAL,
        TaskStatus.OPEN,
        roles.REVIEWER,
        "Approve the payment",
        "Check the amount.",
    )
    assert AuditEvent.objects.filter(event_type="task.opened", run_id=run.pk).exists()


def test_an_approved_run_goes_on_to_succeed(admin_user, woken):
    # given: a run waiting for approval and a reviewer
    flow = approval_flow(admin_user)
    run = run_once(flow, {"amount": 500}, admin_user)
    reviewer = UserFactory(username="rita", role=roles.REVIEWER)
    task = ReviewTask.objects.get(run=run)

    # when
    decided = services.decide_approval(task, reviewer, approved=True, comment="ok")
    drain()

    # then
    assert decided.status == RunStatus.QUEUED
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.context["vars"]["paid"] == 500
    assert run.context["vars"]["approval"]["decision"] == "approved"
    assert run.context["steps"]["approve"]["by"] == "rita"
    task.refresh_from_db()
    assert (task.status, task.decision, task.resolved_by) == (
        TaskStatus.RESOLVED,
        "approved",
        reviewer,
    )
    event = AuditEvent.objects.get(event_type="approval.granted")
    assert event.run_id == run.pk
    assert event.summary == "Approve the payment: approved by rita"
    assert step_keys(run) == ["approve", "approve", "pay"]


def test_a_rejected_run_fails(admin_user, woken):
    # given
    flow = approval_flow(admin_user)
    run = run_once(flow, {"amount": 500}, admin_user)
    reviewer = UserFactory(username="rita", role=roles.REVIEWER)
    task = ReviewTask.objects.get(run=run)

    # when
    services.decide_approval(task, reviewer, approved=False, comment="Too much")
    drain()

    # then
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error == "Rejected by rita: Too much"
    assert run.finished_at is not None
    assert step_keys(run) == ["approve"]
    assert (
        AuditEvent.objects.filter(event_type="approval.rejected", run_id=run.pk).count()
        == 1
    )
    # a second decision on the same task is refused
    from connectors.errors import PermanentError

    with pytest.raises(PermanentError, match="not an open approval"):
        services.decide_approval(task, reviewer, approved=True)


# --- Reconcile ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "tolerance", "matched", "difference"),
    [
        ("157.00", 157, 0, True, 0.0),  # text that reads as a number, as EDI has
        ("1,200.00", "1200", 0, True, 0.0),
        ("157.00", "157.40", 0.5, True, 0.4),
        (100, 99.4, 0.5, False, -0.6),
        ("EUR", " EUR ", 0, True, None),  # text compares trimmed
        ("EUR", "eur", 0, False, None),
        (None, None, 0, True, None),
        (None, 0, 0, False, None),
        (True, "true", 0, False, None),
        ("NaN", "NaN", 0, True, None),  # not a number: compared as text
    ],
)
def test_compare_numbers_within_the_tolerance_and_text_trimmed(
    expected, actual, tolerance, matched, difference
):
    from integrations.engine.decisions import compare

    result = compare("Total", expected, actual, tolerance)

    assert result["matched"] is matched
    assert result.get("difference") == (
        pytest.approx(difference) if difference is not None else None
    )


def test_a_difference_is_said_in_words():
    from integrations.engine.decisions import compare, difference_text

    assert (
        difference_text(compare("Total", "1200.00", 1150, 0))
        == "Total: expected “1200.00”, found 1,150 (50 less)"
    )
    assert (
        difference_text(compare("Quantity", 10, 12.5, 0))
        == "Quantity: expected 10, found 12.5 (2.5 more)"
    )
    assert (
        difference_text(compare("Order", "PO-1", None, 0))
        == "Order: expected “PO-1”, found nothing"
    )


def test_a_reconcile_step_that_matches_goes_on_without_a_task(admin_user, woken):
    # given
    flow = manual_flow(
        admin_user,
        {
            "key": "match",
            "type": "reconcile",
            "checks": [
                {"name": "Total", "expected": "trigger.order", "actual": "trigger.ack"}
            ],
        },
        name="Match",
    )

    # when
    run = run_once(flow, {"order": "10.00", "ack": 10}, admin_user)

    # then
    assert run.status == RunStatus.SUCCEEDED
    assert run.context["steps"]["match"] == {
        "matched": True,
        "checks": [
            {
                "name": "Total",
                "expected": "10.00",
                "actual": 10,
                "difference": 0.0,
                "matched": True,
            }
        ],
    }
    assert not ReviewTask.objects.exists()


def test_a_reconcile_step_needs_a_check_and_a_real_step_to_reject_to(admin_user):
    with pytest.raises(services.InvalidDefinition) as empty:
        manual_flow(admin_user, {"key": "match", "type": "reconcile", "checks": []})
    with pytest.raises(services.InvalidDefinition) as nowhere:
        manual_flow(
            admin_user,
            {
                "key": "match",
                "type": "reconcile",
                "on_reject": "tell",
                "checks": [{"name": "Total", "expected": "1", "actual": "1"}],
            },
        )

    assert "at least 1 item" in str(empty.value)
    assert "jumps to “tell”, which is not a step" in str(nowhere.value)


def test_a_business_key_that_does_not_compile_is_refused_at_publish(admin_user):
    with pytest.raises(services.InvalidDefinition) as refused:
        services.create_flow(
            "Keys",
            {
                "trigger": {"type": "manual"},
                "business_key": '"invoice:" & (trigger.invoice',
                "steps": [],
            },
            admin_user,
        )

    assert refused.value.problems == [
        'The business key: the expression “"invoice:" & (trigger.invoice” is not '
        "valid: Expected ) before end of expression (at character 29)."
    ]
