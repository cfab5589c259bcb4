"""Working review tasks with the services of ``integrations.reviews``: a fix
(retry, values, a document) carries the run on against the emulators;
approvals, who sees what, claiming, bulk actions, counts and e-mail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from audit.models import AuditEvent
from connectors.sandbox.models import OtcsNode
from integrations import notifications, reviews, services
from integrations.models import (
    FlowRun,
    ReviewTask,
    RunStatus,
    TaskKind,
    TaskStatus,
    Transfer,
    TransferStatus,
)
from tests.factories import UserFactory
from tests.integrations.flows import (
    account_event,
    account_id,
    contract_definition,
    contract_flow,
    deliver,
    drain,
    rule,
)
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = {
    "key": "note",
    "type": "set",
    "name": "Note the order",
    "variables": [{"name": "order", "expression": "trigger.order"}],
}
FIELDS = {
    "amount": {"type": "integer", "title": "Amount"},
    "currency": {"type": "string", "title": "Currency", "enum": ["EUR", "USD"]},
    "customer": {"type": "string", "title": "Customer name"},
    "note": {"type": ["string", "null"], "title": "Note"},
}


@pytest.fixture
def rita(db) -> Any:
    return UserFactory(username="rita", first_name="Rita", role=roles.REVIEWER)


@pytest.fixture
def rob(db) -> Any:
    return UserFactory(username="rob", first_name="Rob", role=roles.REVIEWER)


@pytest.fixture
def lena(db) -> Any:
    Group.objects.get_or_create(name="Legal")
    return UserFactory(username="lena", first_name="Lena", role="Legal")


def manual_flow(user: Any, name: str = "Pay invoices") -> Any:
    return services.create_flow(
        name, {"trigger": {"type": "manual"}, "steps": [NOTE]}, user
    )


def new_run(flow: Any, user: Any) -> FlowRun:
    run, _ = services.start_run(flow, {"order": "A-1"}, user)
    return run


def task(run: FlowRun, **fields: Any) -> ReviewTask:
    values: dict[str, Any] = {
        "kind": TaskKind.FAILED_TRANSFER,
        "run": run,
        "flow_id": run.flow_id,
        "step_key": f"step-{ReviewTask.objects.count()}",
        "queue": roles.REVIEWER,
        "title": "Pay invoices: “File the invoice” failed",
        "reason": "Content Server answered 503.",
        "due_at": timezone.now() + timedelta(hours=4),
    }
    values.update(fields)
    return ReviewTask.objects.create(**values)


def file_step(systems: Any, parent_id: str = "2000", **extra: Any) -> dict:
    return {
        "key": "file",
        "type": "action",
        "connection": systems.otcs.pk,
        "action": "upload_document",
        "document": "contract",
        "mapping": [rule("parent_id", parent_id)],
        "transfer": {
            "source_system": '"D365"',
            "source_id": 'trigger.body.PrimaryEntityId & "/contract"',
        },
        **extra,
    }


def events(run: FlowRun) -> list[str]:
    return list(
        AuditEvent.objects.filter(run_id=run.pk)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )


# --- Fixes against the emulators ----------------------------------------------------


def test_a_failed_transfer_is_retried_on_the_fixed_version_and_filed_once(
    systems, admin_user, rita, woken
):
    # given: the flow files into a folder that does not exist
    flow = contract_flow(
        systems,
        admin_user,
        workspace=None,
        link_back=None,
        file=file_step(systems, parent_id="987654"),
    )
    deliver(systems, flow, account_event(3))
    drain()
    run = FlowRun.objects.get()
    one = ReviewTask.objects.get(run=run)
    assert (one.kind, one.status, run.status) == (
        TaskKind.FAILED_TRANSFER,
        TaskStatus.OPEN,
        RunStatus.NEEDS_REVIEW,
    )

    # when: the folder is fixed in a new version and a reviewer retries
    services.publish_version(
        flow,
        contract_definition(
            systems, workspace=None, link_back=None, file=file_step(systems)
        ),
        admin_user,
        note="Fix the folder",
    )
    new_run = reviews.retry(one, rita, version="latest", comment="Folder fixed")
    drain()

    # then: it carried on, filed the contract once, and the task says who
    new_run.refresh_from_db()
    one.refresh_from_db()
    assert new_run.status == RunStatus.SUCCEEDED, new_run.error
    assert new_run.version.number == 2
    assert new_run.started_by == rita
    contract = f"contract-{account_id(3)}.txt"
    assert OtcsNode.objects.filter(name=contract).count() == 1
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.run_id) == (TransferStatus.DONE, new_run.pk)
    assert (one.status, one.decision, one.resolved_by, one.comment) == (
        TaskStatus.RESOLVED,
        "retried",
        rita,
        "Folder fixed",
    )
    assert one.resolved_at is not None
    assert events(run)[-2:] == ["task.resolved", "run.replayed"]

    # when: the same task is retried again
    with pytest.raises(reviews.TaskError) as refused:
        reviews.retry(one, rita)

    # then
    assert refused.value.message.startswith("This task was already resolved by Rita")
    assert FlowRun.objects.count() == 2


def test_incomplete_metadata_is_completed_with_checked_values(
    systems, admin_user, rita, woken
):
    # given: an account event without the account's name
    flow = contract_flow(systems, admin_user)
    unnamed = account_event(9)
    attributes = unnamed["InputParameters"][0]["value"]["Attributes"]
    unnamed["InputParameters"][0]["value"]["Attributes"] = [
        item for item in attributes if item["key"] != "name"
    ]
    deliver(systems, flow, unnamed)
    drain()
    run = FlowRun.objects.get()
    one = ReviewTask.objects.get(run=run)
    assert (one.kind, one.step_key) == (TaskKind.INCOMPLETE_METADATA, "workspace")
    assert "name" in one.needed["fields"]

    # when: the name is left empty
    with pytest.raises(reviews.InvalidValues) as invalid:
        reviews.resolve_with_values(one, rita, {"name": ""})

    # then: the field says why and nothing is saved
    assert invalid.value.errors == {
        "name": "Fill this in: the run cannot go on without it."
    }
    one.refresh_from_db()
    assert one.status == TaskStatus.OPEN
    assert FlowRun.objects.count() == 1

    # when: the name is given
    new_run = reviews.resolve_with_values(
        one, rita, {"name": "Customer 9"}, comment="From the CRM"
    )
    drain()

    # then: the run went on with it and the workspace exists
    new_run.refresh_from_db()
    one.refresh_from_db()
    assert new_run.status == RunStatus.SUCCEEDED, new_run.error
    assert OtcsNode.objects.filter(name="Customer 9").count() == 1
    node = OtcsNode.objects.get(name=f"contract-{account_id(9)}.txt")
    assert node.parent.parent.name == "Customer 9"
    assert (one.status, one.decision, one.resolved_by) == (
        TaskStatus.RESOLVED,
        "fixed",
        rita,
    )
    assert one.resolution == {
        "values": {"name": "Customer 9"},
        "comment": "From the CRM",
    }


def test_a_missing_document_is_uploaded_and_filed_into_the_workspace(
    systems, admin_user, rita, woken, settings
):
    # given: the flow files the trigger's document, and the event has none
    flow = contract_flow(
        systems,
        admin_user,
        contract=None,
        link_back=None,
        file=file_step(
            systems, parent_id="steps.workspace.workspace_id", document="trigger"
        ),
    )
    deliver(systems, flow, account_event(5))
    drain()
    run = FlowRun.objects.get()
    one = ReviewTask.objects.get(run=run)
    assert (one.kind, one.needed["document"]) == (TaskKind.MISSING_DOCUMENT, "trigger")

    # when: a document larger than allowed is uploaded
    settings.XCONNECTOR_MAX_DOCUMENT_BYTES = 10
    big = SimpleUploadedFile("contract.pdf", b"%PDF-1.4 " * 10, "application/pdf")
    with pytest.raises(reviews.TaskError) as refused:
        reviews.resolve_with_document(one, rita, big)

    # then: it says so and nothing is saved
    assert "at most 10 bytes" in refused.value.message
    one.refresh_from_db()
    assert one.status == TaskStatus.OPEN

    # when: the contract is uploaded
    settings.XCONNECTOR_MAX_DOCUMENT_BYTES = 1_000_000
    upload = SimpleUploadedFile(
        "signed-contract.pdf", b"%PDF-1.4 signed", "application/pdf"
    )
    new_run = reviews.resolve_with_document(one, rita, upload, comment="By mail")
    drain()

    # then: the run went on and filed it into the account's workspace
    new_run.refresh_from_db()
    one.refresh_from_db()
    assert new_run.status == RunStatus.SUCCEEDED, new_run.error
    node = OtcsNode.objects.get(name="signed-contract.pdf")
    assert node.parent.name == "Customer 5"
    assert one.status == TaskStatus.RESOLVED
    assert one.resolution["document"]["name"] == "signed-contract.pdf"
    assert one.resolution["document"]["size"] == len(b"%PDF-1.4 signed")
    assert one.resolution["comment"] == "By mail"
    assert Transfer.objects.get().status == TransferStatus.DONE


def approval_flow(systems: Any, user: Any) -> Any:
    return services.create_flow(
        "Pay with approval",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "approve",
                    "type": "approval",
                    "group": roles.REVIEWER,
                    "title": "Approve the payment",
                    "on_reject": "tell",
                },
                NOTE,
                {
                    "key": "tell",
                    "type": "action",
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


def test_an_approval_granted_and_one_rejected_with_its_comment(
    systems, admin_user, rita, woken
):
    # given: two runs that wait for approval, started by the admin
    flow = approval_flow(systems, admin_user)
    granted, _ = services.start_run(flow, {"order": "A-1"}, admin_user)
    refused, _ = services.start_run(flow, {"order": "A-2"}, admin_user)
    drain()
    first = ReviewTask.objects.get(run=granted)
    second = ReviewTask.objects.get(run=refused)
    assert (first.kind, first.queue, first.requested_by) == (
        TaskKind.APPROVAL,
        roles.REVIEWER,
        admin_user,
    )

    # when: the requester tries to approve their own request
    with pytest.raises(PermissionDenied, match="someone else"):
        reviews.approve(first, admin_user)

    # when: a rejection without a comment
    with pytest.raises(reviews.TaskError, match="the comment is required"):
        reviews.reject(second, rita, "  ")

    # when: the reviewer approves one and rejects the other
    reviews.approve(first, rita, comment="Fine")
    reviews.reject(second, rita, "The amount is wrong")
    drain()

    # then: both ran on; the rejection reached the source system
    granted.refresh_from_db()
    refused.refresh_from_db()
    assert granted.status == RunStatus.SUCCEEDED, granted.error
    assert "note" in granted.context["steps"]
    assert refused.status == RunStatus.SUCCEEDED, refused.error
    assert "note" not in refused.context["steps"]
    assert (
        refused.context["steps"]["tell"]["body"]["json"]["comment"]
        == "The amount is wrong"
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.resolved_by) == (TaskStatus.RESOLVED, rita)
    assert (second.status, second.comment) == (
        TaskStatus.REJECTED,
        "The amount is wrong",
    )
    assert "approval.granted" in events(granted)
    assert "approval.rejected" in events(refused)

    # when: approved again
    with pytest.raises(reviews.TaskError, match="already resolved by Rita"):
        reviews.approve(first, rita)


# --- Values ------------------------------------------------------------------------


def test_values_are_typed_and_checked_against_the_fields(rita, admin_user, woken):
    # given
    one = task(
        new_run(manual_flow(admin_user), admin_user),
        kind=TaskKind.INCOMPLETE_METADATA,
        needed={"fields": FIELDS},
    )

    # when: wrong values
    with pytest.raises(reviews.InvalidValues) as invalid:
        reviews.resolve_with_values(
            one, rita, {"amount": "twelve", "currency": "GBP", "customer": 7}
        )

    # then: a message per field, and nothing saved
    assert invalid.value.errors == {
        "amount": "Enter a whole number, like 42.",
        "currency": "Choose one of EUR, USD.",
        "customer": "Enter text.",
    }
    one.refresh_from_db()
    assert (one.status, one.resolution) == (TaskStatus.OPEN, {})
    assert FlowRun.objects.count() == 1

    # when: values as a form posts them
    clean = reviews.validate_values(
        FIELDS, {"amount": "12", "currency": "EUR", "customer": "ACME"}
    )

    # then: "12" became 12; the nullable note may stay empty
    assert clean == {"amount": 12, "currency": "EUR", "customer": "ACME"}


# --- Who sees what, claiming, bulk, counts ------------------------------------------


def test_a_reviewer_of_another_queue_gets_404(rita, lena, admin_user, woken):
    run = new_run(manual_flow(admin_user), admin_user)
    legal = task(run, queue="Legal")
    ours = task(run)

    assert reviews.get_visible_task(lena, legal.pk) == legal
    assert reviews.get_visible_task(admin_user, legal.pk) == legal
    with pytest.raises(Http404):
        reviews.get_visible_task(rita, legal.pk)
    assert list(reviews.visible_tasks(rita)) == [ours]
    assert list(reviews.visible_tasks(admin_user)) == [legal, ours]
    with pytest.raises(PermissionDenied):
        reviews.claim(legal, rita)


def test_claim_by_two_users_and_hand_over(rita, rob, lena, admin_user, woken):
    one = task(new_run(manual_flow(admin_user), admin_user))

    claimed = reviews.claim(one, rita)
    assert (claimed.status, claimed.assignee) == (TaskStatus.CLAIMED, rita)

    with pytest.raises(reviews.TaskError) as refused:
        reviews.claim(one, rob)
    assert refused.value.message == (
        "Rita claimed this task already; ask them or an integration admin "
        "to hand it over."
    )
    with pytest.raises(reviews.TaskError, match="only they or an integration admin"):
        reviews.unclaim(one, rob)
    with pytest.raises(reviews.TaskError, match="Lena is not in the queue"):
        reviews.reassign(one, rita, lena)

    handed = reviews.reassign(one, rita, rob)
    assert (handed.status, handed.assignee) == (TaskStatus.CLAIMED, rob)
    back = reviews.unclaim(one, admin_user)
    assert (back.status, back.assignee) == (TaskStatus.OPEN, None)
    assert [
        event["payload"]["action"]
        for event in AuditEvent.objects.filter(event_type="task.claimed")
        .order_by("sequence")
        .values("payload")
    ] == ["claim", "reassign", "unclaim"]


def test_a_viewer_cannot_change_a_task(admin_user, woken):
    viewer = UserFactory(username="vic", role=roles.VIEWER)
    one = task(new_run(manual_flow(admin_user), admin_user), queue=roles.VIEWER)

    with pytest.raises(PermissionDenied, match="change_reviewtask"):
        reviews.claim(one, viewer)


def test_bulk_dismiss_of_three_tasks_with_one_not_visible(rita, admin_user, woken):
    run = new_run(manual_flow(admin_user), admin_user)
    first, second = task(run), task(run)
    legal = task(run, queue="Legal")

    with pytest.raises(reviews.TaskError, match="reason is required"):
        reviews.bulk([first.pk], rita, "dismiss", reason=" ")

    result = reviews.bulk(
        [first.pk, second.pk, legal.pk], rita, "dismiss", reason="Sent by post."
    )

    assert result.done == [first.pk, second.pk]
    assert result.failed == {legal.pk: "not found"}
    first.refresh_from_db()
    legal.refresh_from_db()
    assert (first.status, first.comment, first.resolved_by) == (
        TaskStatus.DISMISSED,
        "Sent by post.",
        rita,
    )
    assert legal.status == TaskStatus.OPEN
    assert FlowRun.objects.get(pk=run.pk).status == run.status  # left as it was
    assert AuditEvent.objects.filter(event_type="task.dismissed").count() == 2

    wrong = reviews.bulk([second.pk, 999999], rita, "approve", comment="ok")
    assert wrong.done == []
    assert wrong.failed[999999] == "not found"
    assert wrong.failed[second.pk].startswith("This task was already dismissed by")
    with pytest.raises(reviews.TaskError, match="not something done"):
        reviews.bulk([first.pk], rita, "delete")

    again = reviews.bulk([first.pk], rita, "claim")
    assert again.done == []
    assert again.failed[first.pk].startswith("This task was already dismissed by Rita")


def test_counts_by_queue_in_one_query_once_the_queues_are_known(
    rita, lena, admin_user, woken, django_assert_num_queries
):
    run = new_run(manual_flow(admin_user), admin_user)
    task(run, assignee=rita, status=TaskStatus.CLAIMED)
    task(run, due_at=timezone.now() - timedelta(hours=1))
    task(run)
    task(run, status=TaskStatus.RESOLVED)
    task(run, queue="Legal")

    visible = reviews.visible_tasks(rita)  # reads rita's queues
    with django_assert_num_queries(1):
        counts = reviews.counts_by_queue(rita, visible)

    assert counts == {roles.REVIEWER: {"open": 3, "overdue": 1, "mine": 1}}
    assert reviews.counts_by_queue(rita) == counts
    assert reviews.counts_by_queue(admin_user) == {
        roles.REVIEWER: {"open": 3, "overdue": 1, "mine": 0},
        "Legal": {"open": 1, "overdue": 0, "mine": 0},
    }


# --- E-mail --------------------------------------------------------------------------


def test_a_new_task_is_mailed_to_its_queue_and_overdue_ones_daily(
    rita, rob, lena, admin_user, woken
):
    UserFactory(username="gone", role=roles.REVIEWER, is_active=False)
    UserFactory(username="noaddress", role=roles.REVIEWER, email="")
    run = new_run(manual_flow(admin_user), admin_user)
    mail.outbox.clear()

    late = task(run, title="Late one", due_at=timezone.now() - timedelta(hours=2))
    notifications.task_opened(late)  # what the engine calls when it opens one

    assert sorted(message.to[0] for message in mail.outbox) == [
        "rita@example.com",
        "rob@example.com",
    ]
    assert mail.outbox[0].subject == "[xConnector] New task in Reviewer: Late one"
    assert f"/tasks/{late.pk}/" in mail.outbox[0].body

    mail.outbox.clear()
    task(run, title="Not yet due")
    task(run, queue="Legal", title="Legal late", due_at=timezone.now() - timedelta(1))
    mail.outbox.clear()

    sent = notifications.send_overdue_digest()

    assert sent == 3
    by_address = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_address) == [
        "lena@example.com",
        "rita@example.com",
        "rob@example.com",
    ]
    assert by_address["rita@example.com"].subject == (
        "[xConnector] 1 overdue task in Reviewer"
    )
    assert "Late one" in by_address["rita@example.com"].body
    assert "Not yet due" not in by_address["rita@example.com"].body
    assert "Legal late" in by_address["lena@example.com"].body
