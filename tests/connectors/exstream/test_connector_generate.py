"""Generating one customer's document on demand."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader

from connectors.errors import PermanentError
from connectors.exstream.emulator.state import (
    CONTRACT_RENEWAL,
    INVOICE_LETTER,
    WELCOME_LETTER,
)
from tests.connectors.exstream.conftest import run

pytestmark = [
    pytest.mark.urls("tests.connectors.exstream.urls"),
    pytest.mark.django_db(transaction=True),
]

ADA = {
    "customerNumber": "C-1001",
    "customerName": "Ada Lovelace",
    "invoiceNumber": "INV-2024-001",
    "amount": "120.50",
    "currency": "EUR",
    "dueDate": "2024-02-29",
}
GRACE = {
    **ADA,
    "customerNumber": "C-1002",
    "customerName": "Grace Hopper",
    "amount": "99.00",
}


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def generate(exstream, data=None, key="", **values) -> tuple[dict, bytes, str]:
    params = {"communication_id": str(INVOICE_LETTER), "data": data, **values}
    output, documents = run(exstream, "generate", params, key)
    assert len(documents) == 1
    return output, documents[0].read(), documents[0].name


def test_the_pdf_is_a_real_document_holding_the_data(exstream):
    # when
    output, pdf, name = generate(exstream, ADA)

    # then
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Dear Ada Lovelace," in text
    assert "Please find invoice INV-2024-001 for 120.50 EUR, due on 2024-02-29." in text
    assert name == "invoice-letter-C-1001.pdf"
    assert output == {
        "file_name": "invoice-letter-C-1001.pdf",
        "media_type": "application/pdf",
        "size": len(pdf),
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "communication_id": str(INVOICE_LETTER),
    }


def test_different_data_gives_a_different_pdf_and_the_same_data_the_same(exstream):
    # when
    _, first, _ = generate(exstream, ADA)
    _, again, _ = generate(exstream, ADA)
    _, other, _ = generate(exstream, GRACE)

    # then
    assert first == again
    assert other != first
    assert "Dear Grace Hopper," in text_of(other)


def test_xml_driver_data_and_a_chosen_file_name(exstream):
    # given
    xml = (
        "<customer><customerNumber>C-7</customerNumber>"
        "<customerName>Alan Turing</customerName></customer>"
    )

    # when
    output, pdf, name = generate(
        exstream,
        data=None,
        communication_id=str(WELCOME_LETTER),
        data_xml=xml,
        file_name="welcome.pdf",
    )

    # then
    assert name == "welcome.pdf"
    assert output["file_name"] == "welcome.pdf"
    assert "Welcome to Acme. Your customer number is C-7." in text_of(pdf)


def test_a_retry_with_the_same_idempotency_key_returns_the_same_document(exstream):
    # given: a document generated under key "run-1", then the template changed
    # and approved again
    _, first, _ = generate(exstream, ADA, key="run-1")
    run(
        exstream,
        "update_content_block",
        {
            "communication_id": str(INVOICE_LETTER),
            "block": "closing",
            "content": "Yours sincerely,\nAcme Billing",
            "submit_for_review": True,
        },
    )
    exstream.client.set_state(str(INVOICE_LETTER), "APPROVED")

    # when
    _, retried, _ = generate(exstream, ADA, key="run-1")
    _, fresh, _ = generate(exstream, ADA, key="run-2")

    # then
    assert retried == first
    assert "Yours sincerely," in text_of(fresh)
    assert "Yours sincerely," not in text_of(retried)


def test_driver_data_missing_a_required_field_is_a_permanent_error(exstream):
    # given
    data = {key: value for key, value in ADA.items() if key != "dueDate"}

    # when
    with pytest.raises(PermanentError) as raised:
        generate(exstream, data)

    # then
    assert raised.value.message == (
        "Exstream refused the driver data: The driver data lacks the field "
        "dueDate that the communication requires."
    )
    assert raised.value.status == 400
    assert not raised.value.retryable


def test_driver_data_that_is_neither_json_nor_xml_is_a_permanent_error(exstream):
    # when
    with pytest.raises(PermanentError) as raised:
        generate(exstream, data=None, data_xml="<customer><unclosed></customer>")

    # then
    assert raised.value.message == (
        "Exstream refused the driver data: The driver data is neither valid "
        "JSON nor valid XML."
    )


def test_a_communication_in_review_does_not_generate(exstream):
    # when
    with pytest.raises(PermanentError) as raised:
        generate(
            exstream, {"customerNumber": "C-1"}, communication_id=str(CONTRACT_RENEWAL)
        )

    # then
    assert raised.value.message == (
        "Exstream refused the request: The communication “Contract renewal” is "
        "in state REVIEW: only APPROVED communications can generate."
    )
    assert raised.value.status == 409


def test_an_unknown_communication_is_a_permanent_error(exstream):
    # when
    with pytest.raises(PermanentError) as raised:
        generate(exstream, ADA, communication_id="00000000-0000-0000-0000-000000000000")

    # then
    assert raised.value.message == (
        "Exstream could not find what was asked for: No communication with id "
        "00000000-0000-0000-0000-000000000000 exists."
    )
    assert raised.value.status == 404


def test_input_needs_json_or_xml_data_but_not_both(exstream):
    # when
    with pytest.raises(PermanentError) as raised:
        generate(exstream, ADA, data_xml="<customer/>")

    # then
    assert "give the driver data either as JSON fields or as XML" in (
        raised.value.message
    )
