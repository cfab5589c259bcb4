"""The emulator answers a plain HTTP client the way Exstream documents."""

from __future__ import annotations

import base64
import io

import pytest
import requests
from pypdf import PdfReader

from connectors.exstream.emulator.state import (
    CASE_DECISION,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    WELCOME_LETTER,
)

pytestmark = [
    pytest.mark.urls("tests.connectors.exstream.urls"),
    pytest.mark.django_db(transaction=True),
]

WELCOME = {"customerNumber": "C-9", "customerName": "Edsger Dijkstra"}


def token(sandbox_url: str, secret: str = SANDBOX_CLIENT_SECRET) -> requests.Response:
    return requests.post(
        f"{sandbox_url}otdsws/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": secret,
        },
        timeout=10,
    )


def bearer(sandbox_url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sandbox_url).json()['access_token']}"}


def generate(sandbox_url: str, body, **headers) -> requests.Response:
    return requests.post(
        f"{sandbox_url}orchestration/api/v1/inputs/ondemand/sandbox/generate",
        headers={
            **bearer(sandbox_url),
            "communicationId": str(WELCOME_LETTER),
            "driverDataSource": "Customers",
            **headers,
        },
        data=body,
        timeout=10,
    )


def test_a_token_lives_fifteen_minutes_by_default(sandbox_url):
    # when
    answer = token(sandbox_url)

    # then
    assert answer.status_code == 200
    assert answer.json()["token_type"] == "Bearer"
    assert answer.json()["expires_in"] == 900


def test_a_wrong_secret_gets_no_token(sandbox_url):
    # when
    answer = token(sandbox_url, secret="wrong")

    # then
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }


def test_an_expired_token_is_refused_with_401(sandbox_url, settings):
    # given: tokens that expire at once
    settings.XCONNECTOR_SANDBOX_EXSTREAM_TOKEN_SECONDS = 0
    headers = bearer(sandbox_url)

    # when
    answer = requests.get(
        f"{sandbox_url}orchestration/api/v1/version", headers=headers, timeout=10
    )

    # then
    assert answer.status_code == 401
    assert answer.json()["status"] == 401
    assert answer.json()["message"] == "Unauthorized"
    assert set(answer.json()) == {"timestamp", "status", "message", "details"}


def test_the_version(sandbox_url):
    # when
    answer = requests.get(
        f"{sandbox_url}orchestration/api/v1/version",
        headers=bearer(sandbox_url),
        timeout=10,
    )

    # then
    assert answer.json() == {
        "apiIdentifier": "orchestration",
        "major": 25,
        "minor": 2,
        "patch": 0,
        "versionString": "25.2.0",
    }


def test_generation_answers_the_data_envelope_with_one_item_per_channel(sandbox_url):
    # when
    answer = generate(
        sandbox_url,
        b'{"customerNumber": "C-9", "customerName": "Edsger Dijkstra"}',
        **{"Content-Type": "application/json"},
    )

    # then
    assert answer.status_code == 200
    items = answer.json()["data"]
    assert [(i["fileName"], i["fileExtension"]) for i in items] == [
        ("welcome-letter-C-9.pdf", "pdf"),
        ("welcome-letter-C-9.html", "html"),
        ("welcome-letter-C-9.txt", "txt"),
    ]
    assert items[0]["engineOutputContext"] == {
        "queueName": "PDF",
        "fileName": "welcome-letter-C-9.pdf",
        "customerNumber": "C-9",
    }
    pdf = base64.b64decode(items[0]["content"])
    assert "Dear Edsger Dijkstra," in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert base64.b64decode(items[2]["content"]) == (
        b"Welcome to Acme, Edsger Dijkstra! Customer no. C-9."
    )


def test_generation_with_accept_pdf_answers_the_pdf_from_xml(sandbox_url):
    # when
    answer = generate(
        sandbox_url,
        b"<customer><customerNumber>C-9</customerNumber>"
        b"<customerName>Edsger Dijkstra</customerName></customer>",
        **{"Content-Type": "application/xml", "Accept": "application/pdf"},
    )

    # then
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="welcome-letter-C-9.pdf"'
    )
    assert answer.content.startswith(b"%PDF-")


def test_invalid_driver_data_answers_an_error_item(sandbox_url):
    # when
    answer = generate(sandbox_url, b"not json", **{"Content-Type": "application/json"})

    # then
    assert answer.status_code == 400
    assert answer.json() == {
        "data": [
            {
                "errorMessage": "The driver data is neither valid JSON nor valid XML.",
                "statusCode": 400,
                "engineOutputContext": {
                    "queueName": None,
                    "fileName": None,
                    "customerNumber": None,
                },
            }
        ]
    }


def test_a_missing_field_names_the_customer_in_the_error_item(sandbox_url):
    # when
    answer = generate(
        sandbox_url,
        b'{"customerNumber": "C-9"}',
        **{"Content-Type": "application/json"},
    )

    # then
    item = answer.json()["data"][0]
    assert item["errorMessage"] == (
        "The driver data lacks the field customerName that the communication requires."
    )
    assert item["engineOutputContext"]["customerNumber"] == "C-9"


def test_an_unknown_job_answers_a_server_error(sandbox_url):
    # when
    answer = requests.get(
        f"{sandbox_url}orchestration/api/v1/jobs/nope",
        headers=bearer(sandbox_url),
        timeout=10,
    )

    # then
    assert answer.status_code == 404
    body = answer.json()
    assert (body["status"], body["message"]) == (404, "Job nope not found.")
    assert body["details"] == "uri=/sandbox/exstream/orchestration/api/v1/jobs/nope"


def test_an_empty_batch_is_refused_and_das_pages_by_state(sandbox_url, settings):
    # given
    settings.XCONNECTOR_SANDBOX_EXSTREAM_JOB_SECONDS = 60
    headers = bearer(sandbox_url)

    # when
    answer = requests.post(
        f"{sandbox_url}orchestration/api/v1/inputs/batch/sandbox/InvoiceBatch",
        headers={**headers, "Content-Type": "application/json"},
        data=b"[]",
        timeout=10,
    )
    listed = requests.get(
        f"{sandbox_url}design/api/v1/resources/sandbox",
        params={"filter": "types:exstrapplication;states:APPROVED", "count": 1},
        headers=headers,
        timeout=10,
    )

    # then
    assert answer.status_code == 400  # no record at all
    assert answer.json()["data"][0]["errorMessage"] == (
        "The driver data holds no customer record."
    )
    page = listed.json()
    assert (page["count"], page["offset"], page["total"]) == (1, 0, 3)
    assert page["data"][0]["id"] == str(CASE_DECISION)
    assert page["data"][0]["type"] == "exstrapplication"


def test_an_idempotency_key_reused_for_another_request_is_refused(sandbox_url):
    # given
    headers = {"Content-Type": "application/json", "Idempotency-Key": "k-1"}
    first = generate(
        sandbox_url, b'{"customerNumber": "1", "customerName": "A"}', **headers
    )

    # when
    again = generate(
        sandbox_url, b'{"customerNumber": "1", "customerName": "A"}', **headers
    )
    other = generate(
        sandbox_url, b'{"customerNumber": "2", "customerName": "B"}', **headers
    )

    # then
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["message"] == (
        "This Idempotency-Key was already used for another request."
    )
