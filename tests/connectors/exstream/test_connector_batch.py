"""Batch jobs: submit, wait within the step's budget, fetch the outputs."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from connectors.errors import PermanentError, TransientError
from connectors.exstream.sandbox.models import ExstreamJob
from tests.connectors.exstream.conftest import make_connector, run

pytestmark = [
    pytest.mark.urls("tests.connectors.exstream.urls"),
    pytest.mark.django_db(transaction=True),
]

RECORDS = [
    {"customerNumber": "C-1", "customerName": "Ada Lovelace"},
    {"customerNumber": "C-2", "customerName": "Grace Hopper"},
]


def submit(exstream, key="batch-1", **values) -> dict:
    params = {"service_name": "WelcomeBatch", "records": RECORDS, **values}
    return run(exstream, "submit_batch", params, key)[0]


def test_a_batch_is_submitted_and_waited_for_until_it_completes(exstream):
    # when
    job = submit(exstream)

    # then
    assert job["status"] == "COMPLETED"
    assert job["job_id"] == ExstreamJob.objects.get().job_id
    assert [(o["id"], o["file_name"], o["queue_name"]) for o in job["outputs"]] == [
        ("1-pdf", "welcome-letter-C-1.pdf", "PDF"),
        ("1-email", "welcome-letter-C-1.html", "EMAIL"),
        ("1-sms", "welcome-letter-C-1.txt", "SMS"),
        ("2-pdf", "welcome-letter-C-2.pdf", "PDF"),
        ("2-email", "welcome-letter-C-2.html", "EMAIL"),
        ("2-sms", "welcome-letter-C-2.txt", "SMS"),
    ]
    assert [o["customer_number"] for o in job["outputs"]] == ["C-1"] * 3 + ["C-2"] * 3


def test_a_job_still_running_past_the_budget_is_retried_later_on_the_same_job(
    sandbox_url, settings
):
    # given: a job that takes longer than the step may wait
    settings.XCONNECTOR_SANDBOX_EXSTREAM_JOB_SECONDS = 3
    exstream = make_connector(sandbox_url, wait_seconds=0)

    # when
    with pytest.raises(TransientError) as raised:
        submit(exstream, key="run-7")
    retry = make_connector(sandbox_url, wait_seconds=10)
    job = submit(retry, key="run-7")

    # then
    job_id = ExstreamJob.objects.get().job_id
    assert raised.value.message == (
        f"Exstream is still working on batch job {job_id} (QUEUED): the step "
        "will check again later."
    )
    assert raised.value.retry_after == 5.0
    assert job["job_id"] == job_id
    assert job["status"] == "COMPLETED"
    assert ExstreamJob.objects.count() == 1


def test_a_job_whose_records_lack_a_field_fails_permanently(exstream):
    # given
    records = [*RECORDS, {"customerNumber": "C-3"}]

    # when
    with pytest.raises(PermanentError) as raised:
        submit(exstream, records=records)

    # then
    job_id = ExstreamJob.objects.get().job_id
    assert raised.value.message == (
        f"Exstream batch job {job_id} failed: The driver data lacks the field "
        "customerName that the communication requires."
    )


def test_a_batch_for_a_communication_in_review_is_refused(exstream):
    # when
    with pytest.raises(PermanentError) as raised:
        submit(exstream, service_name="RenewalBatch")

    # then
    assert raised.value.status == 409
    assert "only APPROVED communications can generate" in raised.value.message
    assert ExstreamJob.objects.count() == 0


def test_the_outputs_of_a_completed_job_are_fetched_as_documents(exstream):
    # given
    job = submit(exstream)

    # when
    output, documents = run(
        exstream, "fetch_outputs", {"job_id": job["job_id"], "queue_name": "pdf"}
    )

    # then
    assert [d.name for d in documents] == [
        "welcome-letter-C-1.pdf",
        "welcome-letter-C-2.pdf",
    ]
    texts = [PdfReader(io.BytesIO(d.read())).pages[0].extract_text() for d in documents]
    assert "Dear Ada Lovelace," in texts[0]
    assert "Dear Grace Hopper," in texts[1]
    assert [
        (f["file_name"], f["queue_name"], f["customer_number"]) for f in output["files"]
    ] == [
        ("welcome-letter-C-1.pdf", "PDF", "C-1"),
        ("welcome-letter-C-2.pdf", "PDF", "C-2"),
    ]
    assert output["files"][0]["size"] == documents[0].size


def test_fetching_the_outputs_of_an_unknown_job_is_a_permanent_error(exstream):
    # when
    with pytest.raises(PermanentError) as raised:
        run(exstream, "fetch_outputs", {"job_id": "no-such-job"})

    # then
    assert raised.value.message == (
        "Exstream could not find what was asked for: Job no-such-job not found."
    )
    assert raised.value.status == 404


def test_fetching_the_outputs_of_a_running_job_is_retried_later(sandbox_url, settings):
    # given
    settings.XCONNECTOR_SANDBOX_EXSTREAM_JOB_SECONDS = 30
    exstream = make_connector(sandbox_url, wait_seconds=0)
    with pytest.raises(TransientError):
        submit(exstream)
    job_id = ExstreamJob.objects.get().job_id

    # when
    with pytest.raises(TransientError) as raised:
        run(exstream, "fetch_outputs", {"job_id": job_id})

    # then
    assert raised.value.message == (
        f"Exstream batch job {job_id} is QUEUED: its files are not ready yet."
    )


def test_a_batch_of_xml_records_completes(exstream):
    # given
    xml = (
        "<customers>"
        "<customer><customerNumber>X-1</customerNumber>"
        "<customerName>Ada</customerName></customer>"
        "<customer><customerNumber>X-2</customerNumber>"
        "<customerName>Grace</customerName></customer>"
        "</customers>"
    )

    # when
    job = submit(exstream, records=[], data_xml=xml)

    # then
    assert job["status"] == "COMPLETED"
    assert [o["file_name"] for o in job["outputs"] if o["queue_name"] == "PDF"] == [
        "welcome-letter-X-1.pdf",
        "welcome-letter-X-2.pdf",
    ]
