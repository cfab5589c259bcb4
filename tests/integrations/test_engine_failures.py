"""What a run does when a system fails: retry, give up, stop for review,
and carry on after a replay. Against the emulators of the live server."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from audit.models import AuditEvent
from connectors.sandbox.models import OtcsNode
from integrations import services
from integrations.engine.runner import execute_run
from integrations.models import (
    AttemptOutcome,
    FlowRun,
    ReviewTask,
    RunStatus,
    StepRun,
    StepStatus,
    TaskKind,
    TaskStatus,
    Transfer,
    TransferAttempt,
    TransferStatus,
)
from tests.integrations.flows import (
    account_event,
    account_id,
    contract_definition,
    contract_flow,
    deliver,
    drain,
    rule,
)

pytestmark = pytest.mark.django_db(transaction=True)

ENTERPRISE = "2000"
BUSY = (
    "Content Server is temporarily unavailable (HTTP 503). It asked to wait 1 seconds."
)


def file_step(systems: Any, parent_id: str = ENTERPRISE, **extra: Any) -> dict:
    """The contract filed straight into ``parent_id`` (no workspace step)."""
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


def direct_flow(systems: Any, user: Any, **file_changes: Any) -> Any:
    """The contract flow, filing into the Enterprise Workspace directly."""
    return contract_flow(
        systems,
        user,
        workspace=None,
        link_back=None,
        file=file_step(systems, **file_changes),
    )


def fault(systems: Any, **values: Any) -> None:
    answer = requests.post(
        f"{systems.url}/sandbox/otcs/api/v1/_sandbox/faults", data=values, timeout=10
    )
    assert answer.status_code == 200, answer.text


def contract_name(number: int) -> str:
    return f"contract-{account_id(number)}.txt"


def test_transient_errors_are_retried_until_the_step_succeeds(
    systems, admin_user, woken
):
    # given: Content Server answers the next two calls with 503
    flow = direct_flow(systems, admin_user)
    fault(systems, status=503, count=2)
    answer = deliver(systems, flow, account_event(1))
    run = FlowRun.objects.get(pk=answer.json()["run_id"])

    # when: executed once
    outcome = execute_run(run.pk, worker="test")

    # then: it waits to retry the upload
    run.refresh_from_db()
    assert outcome == RunStatus.RETRYING
    assert run.status == RunStatus.RETRYING
    assert run.step_attempt == 1
    assert run.error == BUSY
    # the server's Retry-After (1 s) sets the next attempt
    assert 0 < (run.next_attempt_at - run.created_at).total_seconds() < 10
    assert woken == [run.pk, run.pk]  # started, then retried

    # when: retried until done
    drain()

    # then
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    file_steps = list(StepRun.objects.filter(run=run, step_key="file"))
    assert [(s.status, s.http_status, s.attempt) for s in file_steps] == [
        (StepStatus.RETRYING, 503, 1),
        (StepStatus.RETRYING, 503, 2),
        (StepStatus.SUCCEEDED, None, 3),
    ]
    assert [s.error for s in file_steps] == [BUSY, BUSY, ""]
    transfer = Transfer.objects.get()
    assert transfer.status == TransferStatus.DONE
    attempts = list(TransferAttempt.objects.filter(transfer=transfer))
    assert [(a.outcome, a.http_status, a.error) for a in attempts] == [
        (AttemptOutcome.RETRYING, 503, BUSY),
        (AttemptOutcome.RETRYING, 503, BUSY),
        (AttemptOutcome.SUCCEEDED, None, ""),
    ]
    assert OtcsNode.objects.filter(name=contract_name(1)).count() == 1


def test_a_step_gives_up_after_its_max_attempts(systems, admin_user, woken):
    # given: a step tried at most twice, and a server busy for longer
    flow = direct_flow(systems, admin_user, retry={"max_attempts": 2})
    fault(systems, status=503, count=5)
    deliver(systems, flow, account_event(2))

    # when
    drain()

    # then
    run = FlowRun.objects.get()
    assert run.status == RunStatus.NEEDS_REVIEW
    assert run.error == f"{BUSY} Gave up after 2 attempts."
    assert list(
        StepRun.objects.filter(run=run, step_key="file").values_list(
            "status", flat=True
        )
    ) == [StepStatus.RETRYING, StepStatus.FAILED]
    task = ReviewTask.objects.get(run=run)
    assert (task.kind, task.status, task.step_key) == (
        TaskKind.FAILED_TRANSFER,
        TaskStatus.OPEN,
        "file",
    )
    assert list(
        TransferAttempt.objects.values_list("outcome", flat=True).order_by("pk")
    ) == [AttemptOutcome.RETRYING, AttemptOutcome.FAILED]
    assert Transfer.objects.get().status == TransferStatus.FAILED


def test_a_permanent_error_needs_review_and_a_replay_on_a_fix_carries_on(
    systems, admin_user, woken
):
    # given: the flow files into a folder that does not exist
    flow = direct_flow(systems, admin_user, parent_id="987654")
    deliver(systems, flow, account_event(3))

    # when
    drain()

    # then
    run = FlowRun.objects.get()
    assert run.status == RunStatus.NEEDS_REVIEW
    assert "could not find node 987654" in run.error
    assert run.checkpoint == 1  # the contract step was done
    task = ReviewTask.objects.get(run=run)
    assert (task.status, task.step_key, task.reason) == (
        TaskStatus.OPEN,
        "file",
        run.error,
    )
    assert list(
        AuditEvent.objects.filter(run_id=run.pk)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    ) == ["transfer.failed", "task.opened"]
    assert Transfer.objects.get().status == TransferStatus.FAILED

    # when: the folder is fixed in a new version and the run replayed on it
    definition = contract_definition(
        systems, workspace=None, link_back=None, file=file_step(systems)
    )
    services.publish_version(flow, definition, admin_user, note="Fix the folder")
    new_run = services.replay_run(run, admin_user, version="latest")
    drain()

    # then: it carried on at the failed step and filed the contract once
    new_run.refresh_from_db()
    run.refresh_from_db()
    assert new_run.status == RunStatus.SUCCEEDED, new_run.error
    assert new_run.version.number == 2
    assert run.status == RunStatus.REPLAYED
    assert list(
        StepRun.objects.filter(run=new_run).values_list("step_key", flat=True)
    ) == ["file"]
    assert OtcsNode.objects.filter(name=contract_name(3)).count() == 1
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.run_id) == (TransferStatus.DONE, new_run.pk)
    task.refresh_from_db()
    assert (task.status, task.decision) == (TaskStatus.RESOLVED, "replayed")


def test_a_mapping_that_fails_keeps_the_payload_and_a_corrected_replay_succeeds(
    systems, admin_user, woken
):
    # given: a manual flow whose HTTP method comes from the payload
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
                        rule("method", "trigger.method"),
                        rule("path", '"echo"'),
                        rule("body", "{'order': trigger.order}"),
                    ],
                }
            ],
        },
        admin_user,
    )
    run, _ = services.start_run(flow, {"method": "FETCH", "order": 7}, admin_user)

    # when
    drain()

    # then
    run.refresh_from_db()
    assert run.status == RunStatus.NEEDS_REVIEW
    assert run.error.startswith("The mapping of “Send” could not be applied:")
    assert "“method”" in run.error
    assert run.payload == {"method": "FETCH", "order": 7}
    assert ReviewTask.objects.get(run=run).status == TaskStatus.OPEN

    # when: replayed with a corrected payload
    new_run = services.replay_run(
        run, admin_user, payload={"method": "POST", "order": 7}
    )
    drain()

    # then
    new_run.refresh_from_db()
    assert new_run.status == RunStatus.SUCCEEDED, new_run.error
    assert new_run.payload == {"method": "POST", "order": 7}
    assert new_run.context["steps"]["send"]["body"]["json"] == {"order": 7}
    event = AuditEvent.objects.get(event_type="run.replayed")
    assert event.payload["payload_changed"] is True


def test_a_required_field_missing_in_the_event_names_the_rule(
    systems, admin_user, woken
):
    # given: the folder to file into comes from the event, which lacks it
    flow = direct_flow(systems, admin_user, parent_id="trigger.body.FolderId")

    # when
    deliver(systems, flow, account_event(4))
    drain()

    # then
    run = FlowRun.objects.get()
    assert run.status == RunStatus.NEEDS_REVIEW
    assert run.error == (
        "The mapping of “File” could not be applied: The field “parent_id” "
        "must be a whole number, but it has no value."
    )
    assert run.payload["body"]["MessageId"] == "msg-4"

    # when: a reviewer adds the folder to the event and replays
    corrected = {**run.payload, "body": {**run.payload["body"], "FolderId": 2000}}
    new_run = services.replay_run(run, admin_user, payload=corrected)
    drain()

    # then
    new_run.refresh_from_db()
    assert new_run.status == RunStatus.SUCCEEDED, new_run.error
    node = OtcsNode.objects.get(name=contract_name(4))
    assert node.parent_id == int(ENTERPRISE)


def test_a_document_larger_than_allowed_needs_review_until_the_limit_is_raised(
    systems, admin_user, woken, settings
):
    # given: documents may have 10,000 bytes and the download has 50,000
    settings.XCONNECTOR_MAX_DOCUMENT_BYTES = 10_000
    flow = services.create_flow(
        "Big documents",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "fetch",
                    "type": "action",
                    "connection": systems.orders.pk,
                    "action": "download",
                    "mapping": [
                        rule("path", '"documents/big.txt"'),
                        rule("query", '{"bytes": 50000}'),
                    ],
                }
            ],
        },
        admin_user,
    )
    run, _ = services.start_run(flow, {}, admin_user)

    # when
    drain()

    # then
    run.refresh_from_db()
    assert run.status == RunStatus.NEEDS_REVIEW
    assert "is larger than the 10,000 bytes allowed" in run.error
    assert ReviewTask.objects.get(run=run).status == TaskStatus.OPEN

    # when: the limit is raised and the run replayed
    settings.XCONNECTOR_MAX_DOCUMENT_BYTES = 100_000
    new_run = services.replay_run(run, admin_user)
    drain()

    # then
    new_run.refresh_from_db()
    assert new_run.status == RunStatus.SUCCEEDED, new_run.error
    [document] = new_run.context["documents"]["fetch"]
    assert (document["name"], document["size"]) == ("big.txt", 50_000)


def test_a_malformed_delivery_is_kept_in_a_run_for_review(systems, admin_user, woken):
    # given
    flow = contract_flow(systems, admin_user)

    # when
    answer = deliver(systems, flow, b"this is not json")

    # then
    run = FlowRun.objects.get()
    assert answer.status_code == 400
    assert answer.json() == {
        "error": answer.json()["error"],
        "run_id": run.pk,
        "status": RunStatus.NEEDS_REVIEW,
    }
    assert answer.json()["error"].startswith("The body is not valid JSON")
    assert run.status == RunStatus.NEEDS_REVIEW
    assert run.error.startswith("The delivery could not be read: The body is not")
    assert run.payload == {
        "raw_body": "this is not json",
        "content_type": "application/json",
    }
    assert ReviewTask.objects.get(run=run).status == TaskStatus.OPEN
    assert woken == []

    # when: a reviewer puts in what the sender meant and replays
    corrected = {"body": account_event(6), "headers": {}, "query": {}}
    new_run = services.replay_run(run, admin_user, payload=corrected)
    drain()

    # then
    new_run.refresh_from_db()
    assert new_run.status == RunStatus.SUCCEEDED, new_run.error
    assert OtcsNode.objects.filter(name=contract_name(6)).count() == 1


def test_a_delivery_with_a_wrong_secret_is_refused_without_a_run(
    systems, admin_user, woken
):
    # given
    flow = contract_flow(systems, admin_user)

    # when
    answer = deliver(systems, flow, account_event(5), secret="guessed")

    # then
    assert answer.status_code == 401
    assert "X-Webhook-Secret" in answer.json()["error"]
    assert FlowRun.objects.count() == 0
