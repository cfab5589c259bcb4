"""The two kinds of task that trading-partner flows open, end to end against
the emulators: a partner exception (Trading Grid refuses the partner) fixed
and retried without a second delivery, and a reconciliation mismatch (an
invoice against its order in the orders API) accepted or rejected."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client

from audit.services import Actor
from connectors.services import create_connection
from connectors.tradinggrid.sandbox.models import TgTransaction
from integrations import reviews, services
from integrations.models import FlowRun, ReviewTask, RunStatus, TaskKind, TaskStatus
from tests.connectors.tradinggrid.conftest import ORDER_850, RETAILER
from tests.connectors.tradinggrid.contract import tradinggrid_case
from tests.factories import UserFactory
from tests.integrations.flows import drain, rule
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rita(db) -> Any:
    return UserFactory(username="rita", first_name="Rita", role=roles.REVIEWER)


@pytest.fixture
def trading_grid(live_server, systems, admin_user) -> Any:
    values, secrets = tradinggrid_case(live_server)
    return create_connection(
        Actor.user(admin_user),
        connector_key="tradinggrid",
        name="Trading Grid",
        settings=values,
        secrets=secrets,
    )


def order_flow(trading_grid: Any, user: Any, partner: str) -> dict[str, Any]:
    return {
        "trigger": {"type": "manual"},
        "steps": [
            {
                "key": "send",
                "type": "action",
                "name": "Send the order",
                "connection": trading_grid.pk,
                "action": "send_document",
                "mapping": [
                    rule("receiver_address", f'"{partner}"'),
                    rule("content", "trigger.edi"),
                ],
            }
        ],
    }


def test_a_partner_exception_is_fixed_and_retried_without_a_second_delivery(
    trading_grid, admin_user, rita, woken
):
    # given: a flow that sends purchase orders to a partner address with a typo
    flow = services.create_flow(
        "Send purchase orders",
        order_flow(trading_grid, admin_user, "ZZ:DEMORETAILR"),
        admin_user,
        activate=True,
    )

    # when: an order goes out
    run, _ = services.start_run(flow, {"edi": ORDER_850}, admin_user)
    drain()

    # then: the run waits for a reviewer with a partner exception naming the
    # partner and the network's words; nothing was delivered
    run.refresh_from_db()
    assert run.status == RunStatus.NEEDS_REVIEW
    task = ReviewTask.objects.get(run=run)
    assert task.kind == TaskKind.PARTNER_EXCEPTION
    assert task.system == "tradinggrid"
    assert task.title == (
        "Send purchase orders: “Send the order”: the trading partner refused it"
    )
    assert task.needed["partner"] == "ZZ:DEMORETAILR"
    assert task.needed["http_status"] == 404
    assert task.needed["errors"] == [
        "Trading Grid refused the request (HTTP 404 Not Found): No trading "
        "partner has the address ZZ:DEMORETAILR: check the partner directory."
    ]
    assert TgTransaction.objects.count() == 0
    # and the queue was told by e-mail
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (
            ["rita@example.com"],
            "[xConnector] New task in Reviewer: Send purchase orders: “Send the "
            "order”: the trading partner refused it",
        )
    ]

    # and the task page says who the partner is and offers to try again
    page = _client(rita).get(f"/tasks/{task.pk}/")
    assert page.status_code == 200
    assert b"The trading partner refused it" in page.content
    assert b"<strong data-partner>ZZ:DEMORETAILR</strong>" in page.content
    assert f'action="/tasks/{task.pk}/retry/"'.encode() in page.content

    # when: the admin corrects the address and the reviewer retries twice
    services.publish_version(
        flow, order_flow(trading_grid, admin_user, RETAILER), admin_user
    )
    replay = reviews.retry(task, rita, comment="Address corrected")
    drain()
    with pytest.raises(reviews.TaskError, match="already resolved by Rita"):
        reviews.retry(task, rita)

    # then: the order reached the retailer once
    replay.refresh_from_db()
    assert replay.status == RunStatus.SUCCEEDED, replay.error
    delivered = TgTransaction.objects.filter(receiver_address=RETAILER, doc_type="850")
    assert delivered.count() == 1
    task.refresh_from_db()
    assert (task.status, task.decision) == (TaskStatus.RESOLVED, "retried")


def invoice_flow(systems: Any, user: Any) -> Any:
    return services.create_flow(
        "Match invoices to orders",
        {
            "trigger": {"type": "manual"},
            "business_key": '"order:" & trigger.order',
            "steps": [
                {
                    "key": "order",
                    "type": "action",
                    "name": "Read the order",
                    "connection": systems.orders.pk,
                    "action": "request",
                    "mapping": [
                        rule("method", '"GET"'),
                        rule("path", '"orders/" & trigger.order'),
                    ],
                },
                {
                    "key": "match",
                    "type": "reconcile",
                    "name": "Invoice against order",
                    "group": "Accounts payable",
                    "on_reject": "tell",
                    "checks": [
                        {
                            "name": "Total",
                            "expected": "steps.order.body.total",
                            "actual": "trigger.total",
                            "tolerance": 0.5,
                        },
                        {
                            "name": "Currency",
                            "expected": "steps.order.body.currency",
                            "actual": "trigger.currency",
                        },
                    ],
                },
                {
                    "key": "book",
                    "type": "set",
                    "name": "Book the invoice",
                    "next": "end",
                    "variables": [{"name": "booked", "expression": "trigger.order"}],
                },
                {
                    "key": "tell",
                    "type": "action",
                    "name": "Tell the supplier",
                    "connection": systems.orders.pk,
                    "action": "request",
                    "mapping": [
                        rule("method", '"POST"'),
                        rule("path", '"echo"'),
                        rule("body", '{"comment": vars.approval.comment}'),
                    ],
                },
            ],
        },
        user,
        activate=True,
    )


def test_a_reconciliation_mismatch_is_accepted_or_rejected(
    systems, admin_user, rita, woken
):
    # given: Accounts payable reviews mismatches; ORD-1002 totals 157.00 EUR
    ap = Group.objects.create(name="Accounts payable")
    ann = UserFactory(username="ann", first_name="Ann", role=roles.REVIEWER)
    ann.groups.add(ap)
    flow = invoice_flow(systems, admin_user)

    # when: one invoice matches within the tolerance, two do not
    exact, _ = services.start_run(
        flow, {"order": "ORD-1002", "total": "157.30", "currency": "EUR"}, admin_user
    )
    short, _ = services.start_run(
        flow, {"order": "ORD-1002", "total": 150, "currency": "EUR"}, admin_user
    )
    wrong, _ = services.start_run(
        flow, {"order": "ORD-1002", "total": 157, "currency": "USD"}, admin_user
    )
    drain()

    # then: the matching invoice is booked without a task
    exact.refresh_from_db()
    assert exact.status == RunStatus.SUCCEEDED, exact.error
    assert exact.context["steps"]["match"]["matched"] is True
    assert not ReviewTask.objects.filter(run=exact).exists()
    # and the others wait for Accounts payable with the differences in words
    short_task = ReviewTask.objects.get(run=short)
    wrong_task = ReviewTask.objects.get(run=wrong)
    assert (short_task.kind, short_task.queue, short_task.status) == (
        TaskKind.RECONCILIATION,
        "Accounts payable",
        TaskStatus.OPEN,
    )
    assert short_task.title == "“Invoice against order”: 1 difference to check"
    assert short_task.business_object == "order:ORD-1002"
    assert short_task.reason == "Total: expected “157.00”, found 150 (7 less)"
    assert wrong_task.reason == "Currency: expected “EUR”, found “USD”"
    assert [c["matched"] for c in short_task.needed["checks"]] == [False, True]
    short.refresh_from_db()
    assert short.status == RunStatus.WAITING
    assert (
        sorted((m.to[0], m.subject) for m in mail.outbox)
        == [
            (
                "ann@example.com",
                "[xConnector] New task in Accounts payable: “Invoice against order”: "
                "1 difference to check",
            ),
        ]
        * 2
    )

    # and only Accounts payable sees them: Rita's queue is another
    assert _client(rita).get(f"/tasks/{short_task.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        reviews.approve(short_task, rita)
    page = _client(ann).get(f"/tasks/{short_task.pk}/")
    assert b'data-check="Total" data-matched="no"' in page.content
    assert b'data-check="Currency" data-matched="yes"' in page.content
    assert b"Accept the difference" in page.content

    # when: Ann accepts the small difference and rejects the wrong currency
    with pytest.raises(reviews.TaskError, match="approved or rejected, not retried"):
        reviews.retry(short_task, ann)
    reviews.approve(short_task, ann, comment="Early payment discount")
    reviews.reject(wrong_task, ann, "We were billed in the wrong currency")
    drain()

    # then: the accepted one is booked, the rejected one told the supplier why
    short.refresh_from_db()
    wrong.refresh_from_db()
    assert short.status == RunStatus.SUCCEEDED, short.error
    assert short.context["vars"]["booked"] == "ORD-1002"
    assert short.context["steps"]["match"]["decision"] == "approved"
    assert wrong.status == RunStatus.SUCCEEDED, wrong.error
    assert "booked" not in wrong.context["vars"]
    # and each run's steps show the decision on the reconcile step
    assert wrong.context["steps"]["match"]["decision"] == "rejected"
    assert [c["matched"] for c in wrong.context["steps"]["match"]["checks"]] == [
        True,
        False,
    ]
    assert wrong.context["steps"]["tell"]["body"]["json"] == {
        "comment": "We were billed in the wrong currency"
    }
    short_task.refresh_from_db()
    wrong_task.refresh_from_db()
    assert (short_task.status, short_task.resolved_by) == (TaskStatus.RESOLVED, ann)
    assert wrong_task.status == TaskStatus.REJECTED
    assert FlowRun.objects.count() == 3


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
