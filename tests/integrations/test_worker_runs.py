"""The flow engine on real Celery worker processes, against the emulators.

These are the promises of "never lose, never duplicate": a worker killed at
random points, a target that fails a third of its calls, repeated webhook
deliveries, bad input. The live server serves the emulators and the webhook
addresses; workers run in separate processes on a queue of their own.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db.models import Count

from audit.models import AuditEvent
from audit.services import verify_chain
from connectors.sandbox.models import OtcsNode
from integrations import services
from integrations.engine.sweeper import sweep
from integrations.models import (
    FlowRun,
    ReviewTask,
    RunStatus,
    StepRun,
    StepStatus,
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
    rule,
    wait_for,
)
from tests.workers import Worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FINAL = (RunStatus.SUCCEEDED, RunStatus.NEEDS_REVIEW, RunStatus.FAILED)


@pytest.fixture
def workers(settings, sandbox):
    """Start workers that share one private queue; all stop afterwards."""
    started: list[Worker] = []
    queue: list[str] = []

    def start(concurrency: int = 4, **env) -> Worker:
        worker = Worker(
            concurrency=concurrency,
            XCONNECTOR_BLOB_DIR=settings.XCONNECTOR_BLOB_DIR,
            **env,
        )
        if queue:
            worker.queue = queue[0]
            worker.env["XCONNECTOR_RUN_QUEUE"] = queue[0]
        else:
            queue.append(worker.queue)
            settings.XCONNECTOR_RUN_QUEUE = worker.queue
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.stop()


def contracts() -> Counter[str]:
    """Contract documents in Content Server, by name."""
    return Counter(
        OtcsNode.objects.filter(name__startswith="contract-").values_list(
            "name", flat=True
        )
    )


def finished(count: int) -> bool:
    return FlowRun.objects.filter(status__in=FINAL).count() >= count


def fault(systems, **values) -> None:
    answer = requests.post(
        f"{systems.url}/sandbox/otcs/api/v1/_sandbox/faults", data=values, timeout=10
    )
    answer.raise_for_status()


def test_a_webhook_event_is_filed_by_a_worker_process(systems, admin_user, workers):
    # given
    worker = workers()
    flow = contract_flow(systems, admin_user)

    # when
    answer = deliver(systems, flow, account_event(1))
    wait_for(lambda: finished(1), timeout=60)

    # then
    run = FlowRun.objects.get()
    assert answer.status_code == 202
    assert answer.json()["run_id"] == run.pk
    assert run.status == RunStatus.SUCCEEDED, (run.error, worker.output()[-3000:])
    assert run.worker.startswith(worker.queue)
    node = OtcsNode.objects.get(name=f"contract-{account_id(1)}.txt")
    assert node.parent.parent.name == "Customer 1"
    assert run.context["steps"]["link_back"]["body"]["json"]["otcs_node_id"] == node.pk
    assert AuditEvent.objects.filter(
        event_type="document.transferred", run_id=run.pk, target_ref=str(node.pk)
    ).exists()


def test_killing_the_worker_20_times_loses_and_duplicates_nothing(
    systems, admin_user, workers
):
    # given: 200 accounts, each with its contract to file
    flow = contract_flow(systems, admin_user)
    worker = workers(XCONNECTOR_RUN_LEASE_SECONDS=3)
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda n: deliver(systems, flow, account_event(n)), range(200))
        )
    assert Counter(a.status_code for a in answers) == {202: 200}

    # when: SIGKILL at random moments, 20 times, while the runs execute
    kills = 0
    rng = random.Random(20261123)  # noqa: S311 - test timing, not security
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not finished(200):
        time.sleep(rng.uniform(0.2, 1.5))
        if kills < 20:
            worker.kill()
            kills += 1
            worker.start()
        sweep()  # what beat does every few seconds
    assert kills == 20

    # then: every run succeeded, one document per source document
    statuses = Counter(FlowRun.objects.values_list("status", flat=True))
    stopped = Counter(
        FlowRun.objects.exclude(status=RunStatus.SUCCEEDED).values_list(
            "error", flat=True
        )
    )
    assert statuses == {RunStatus.SUCCEEDED: 200}, stopped
    assert contracts() == {f"contract-{account_id(n)}.txt": 1 for n in range(200)}
    workspaces = OtcsNode.objects.filter(name__regex=r"^Customer [0-9]+$")
    assert Counter(workspaces.values_list("name", flat=True)) == {
        f"Customer {n}": 1 for n in range(200)
    }
    # ... and the ledger and the audit trail agree, event for event
    transfers = Transfer.objects.all()
    assert Counter(t.status for t in transfers) == {TransferStatus.DONE: 200}
    transferred = AuditEvent.objects.filter(event_type="document.transferred")
    assert sorted(transferred.values_list("document_ref", flat=True)) == sorted(
        f"{t.source_system}:{t.source_id}" for t in transfers
    )
    assert sorted(transferred.values_list("target_ref", flat=True)) == sorted(
        t.target_ref for t in transfers
    )
    assert verify_chain().ok
    # The kills really hit runs mid-way: some were taken over by a new claim.
    assert FlowRun.objects.filter(attempt__gt=1).exists()


def test_a_third_of_calls_failing_with_503_429_and_timeouts(
    systems, admin_user, workers
):
    # given: 10% 503, 10% 429, 10% answered after the caller gave up, on
    # every call (sign-ins too). A step makes several calls, each failing a
    # third of the time: give it enough attempts that giving up is not what
    # this test measures.
    fault(systems, status=503, rate=0.1, seconds=0.2)
    fault(systems, status=429, rate=0.1, seconds=0.2)
    fault(systems, status=0, rate=0.1, seconds=3, after="true")
    retry = {"max_attempts": 50, "base_seconds": 0.1, "cap_seconds": 1}
    definition = contract_definition(systems)
    for step in definition["steps"]:
        step["retry"] = retry
    flow = services.create_flow("Contracts", definition, admin_user, activate=True)
    workers(concurrency=8, XCONNECTOR_HTTP_READ_TIMEOUT=2)

    # when
    for number in range(20):
        deliver(systems, flow, account_event(number))
    wait_for(lambda: finished(20), timeout=480)

    # then: all succeeded, once each, and every failed attempt is on record
    assert Counter(FlowRun.objects.values_list("status", flat=True)) == {
        RunStatus.SUCCEEDED: 20
    }, set(FlowRun.objects.exclude(status=RunStatus.SUCCEEDED).values_list("error"))
    assert contracts() == {f"contract-{account_id(n)}.txt": 1 for n in range(20)}
    retried = StepRun.objects.filter(status=StepStatus.RETRYING)
    codes = Counter(retried.values_list("http_status", flat=True))
    assert codes[503] > 0 and codes[429] > 0 and codes[None] > 0, codes
    assert set(codes) <= {503, 429, None}
    assert all(step.error for step in retried)
    # Each try at filing a document is a transfer attempt, failed ones too.
    for run in FlowRun.objects.all():
        tries = StepRun.objects.filter(run=run, step_key="file").count()
        assert TransferAttempt.objects.filter(run=run).count() == tries
    attempts = Transfer.objects.annotate(n=Count("attempts")).values_list(
        "n", flat=True
    )
    assert sum(attempts) == StepRun.objects.filter(step_key="file").count()


def test_a_permanent_error_waits_for_review_and_replay_files_once(
    systems, admin_user, workers
):
    # given: the flow files into a folder that does not exist (Content Server 400/404)
    broken = contract_definition(systems)["steps"][2]
    broken = {
        **broken,
        "mapping": [rule("parent_id", "999999"), *broken["mapping"][1:]],
    }
    flow = contract_flow(systems, admin_user, file=broken)
    workers()

    # when
    deliver(systems, flow, account_event(3))
    wait_for(lambda: finished(1))

    # then
    run = FlowRun.objects.get()
    assert run.status == RunStatus.NEEDS_REVIEW
    assert run.context["steps"]["workspace"]["created"] is True
    task = ReviewTask.objects.get(run=run)
    assert (task.status, task.step_key) == ("open", "file")
    assert task.reason == run.error
    assert contracts() == {}

    # when: the mapping is fixed, published, and the run replayed on it
    services.publish_version(
        flow, contract_definition(systems), admin_user, note="File into the workspace"
    )
    replay = services.replay_run(run, admin_user, version="latest")
    wait_for(lambda: FlowRun.objects.filter(pk=replay.pk, status__in=FINAL).exists())

    # then
    replay.refresh_from_db()
    run.refresh_from_db()
    assert replay.status == RunStatus.SUCCEEDED, replay.error
    assert run.status == RunStatus.REPLAYED
    assert [s.step_key for s in replay.steps.all()] == ["file", "link_back"]
    assert contracts() == {f"contract-{account_id(3)}.txt": 1}
    assert Transfer.objects.get().status == TransferStatus.DONE
    task.refresh_from_db()
    assert (task.status, task.decision) == ("resolved", "replayed")


def test_the_same_event_five_times_makes_one_run(systems, admin_user, workers):
    # given
    flow = contract_flow(systems, admin_user)
    workers()
    event = account_event(5)

    # when: twice one after the other, three times at once
    first = [deliver(systems, flow, event) for _ in range(2)]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda _: deliver(systems, flow, event), range(3)))
    wait_for(lambda: finished(1))

    # then
    run = FlowRun.objects.get()
    answers = first + together
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 202]
    assert {a.json()["run_id"] for a in answers} == {run.pk}
    assert [a.json()["status"] for a in answers].count("duplicate") == 4
    assert run.status == RunStatus.SUCCEEDED
    assert contracts() == {f"contract-{account_id(5)}.txt": 1}


def test_bad_input_gives_a_clear_error_keeps_the_input_and_can_be_replayed(
    systems, admin_user, workers, settings
):
    # given: documents may have 20,000 bytes; one account's contract has 30,000
    big = contract_definition(systems)["steps"][0]
    big = {
        **big,
        "mapping": [*big["mapping"], rule("query", '{"bytes": trigger.body.Size}')],
    }
    flow = contract_flow(systems, admin_user, contract=big)
    worker = workers(XCONNECTOR_MAX_DOCUMENT_BYTES=20000)
    unnamed = account_event(9)
    unnamed["InputParameters"][0]["value"]["Attributes"] = []

    # when: a body that is not JSON, an account without a name, a big contract
    malformed = deliver(systems, flow, b"<account>not json</account>")
    deliver(systems, flow, unnamed)
    deliver(systems, flow, {**account_event(10), "Size": 30000})
    wait_for(lambda: finished(3))

    # then: each stops for review, says why, and keeps what came in
    garbled = FlowRun.objects.get(pk=malformed.json()["run_id"])
    assert malformed.status_code == 400
    assert malformed.json()["error"].startswith("The body is not valid JSON")
    assert garbled.status == RunStatus.NEEDS_REVIEW
    assert garbled.payload["raw_body"] == "<account>not json</account>"
    no_name = FlowRun.objects.get(event_id="msg-9")
    assert no_name.status == RunStatus.NEEDS_REVIEW
    assert "“name”" in no_name.error, no_name.error
    assert no_name.payload["body"] == unnamed
    oversized = FlowRun.objects.get(event_id="msg-10")
    assert oversized.status == RunStatus.NEEDS_REVIEW
    assert "larger than the 20,000 bytes allowed" in oversized.error
    assert ReviewTask.objects.filter(status="open").count() == 3

    # when: the data is corrected, the limit raised, and the runs replayed
    worker.stop()
    worker.env["XCONNECTOR_MAX_DOCUMENT_BYTES"] = "100000"
    worker.start()
    settings.XCONNECTOR_MAX_DOCUMENT_BYTES = 100000
    services.replay_run(garbled, admin_user, payload={"body": account_event(8)})
    services.replay_run(no_name, admin_user, payload={"body": account_event(9)})
    services.replay_run(oversized, admin_user)
    wait_for(lambda: FlowRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 3)

    # then
    assert contracts() == {f"contract-{account_id(n)}.txt": 1 for n in (8, 9, 10)}
    assert not ReviewTask.objects.filter(status="open").exists()
