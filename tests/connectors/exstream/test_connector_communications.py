"""Communications (templates): listing by workflow state, governed changes."""

from __future__ import annotations

import pytest

from connectors.errors import PermanentError
from connectors.exstream.emulator.state import (
    CASE_DECISION,
    CONTRACT_RENEWAL,
    INVOICE_LETTER,
    WELCOME_LETTER,
)
from tests.connectors.exstream.conftest import run

pytestmark = [
    pytest.mark.urls("tests.connectors.exstream.urls"),
    pytest.mark.django_db(transaction=True),
]


def names_and_states(listed: dict) -> list[tuple[str, str]]:
    return [(c["name"], c["state"]) for c in listed["communications"]]


def update(exstream, content: str, **values) -> dict:
    params = {
        "communication_id": str(INVOICE_LETTER),
        "block": "closing",
        "content": content,
        **values,
    }
    return run(exstream, "update_content_block", params)[0]


def test_every_communication_is_listed_page_by_page(exstream):
    # when
    listed = run(exstream, "list_communications", {"page_size": 1})[0]

    # then
    assert listed["total"] == 4
    assert names_and_states(listed) == [
        ("Case decision", "APPROVED"),
        ("Contract renewal", "REVIEW"),
        ("Invoice letter", "APPROVED"),
        ("Welcome letter", "APPROVED"),
    ]
    assert listed["communications"][2] == {
        "id": str(INVOICE_LETTER),
        "name": "Invoice letter",
        "state": "APPROVED",
        "version": 1,
        "required_fields": [
            "customerNumber",
            "customerName",
            "invoiceNumber",
            "amount",
            "dueDate",
        ],
        "channels": ["PDF", "EMAIL", "PORTAL"],
    }


def test_communications_are_listed_by_state(exstream):
    # when
    approved = run(exstream, "list_communications", {"state": "APPROVED"})[0]
    in_review = run(exstream, "list_communications", {"state": "REVIEW"})[0]

    # then
    assert [c["id"] for c in approved["communications"]] == [
        str(CASE_DECISION),
        str(INVOICE_LETTER),
        str(WELCOME_LETTER),
    ]
    assert [c["id"] for c in in_review["communications"]] == [str(CONTRACT_RENEWAL)]


def test_a_content_change_sends_the_communication_back_to_draft(exstream):
    # when
    changed = update(exstream, "Yours sincerely,\nAcme Billing")

    # then
    assert (changed["state"], changed["version"]) == ("DRAFT", 2)
    with pytest.raises(PermanentError) as raised:
        run(
            exstream,
            "generate",
            {"communication_id": str(INVOICE_LETTER), "data": {"customerNumber": "1"}},
        )
    assert raised.value.message == (
        "Exstream refused the request: The communication “Invoice letter” is in "
        "state DRAFT: only APPROVED communications can generate."
    )


def test_a_change_submitted_for_review_goes_to_review(exstream):
    # when
    changed = update(exstream, "Best wishes,\nAcme", submit_for_review=True)

    # then
    assert (changed["state"], changed["version"]) == ("REVIEW", 2)


def test_repeating_an_update_with_the_same_content_changes_nothing(exstream):
    # when
    unchanged = update(exstream, "Kind regards,\nAcme Billing")

    # then
    assert (unchanged["state"], unchanged["version"]) == ("APPROVED", 1)


def test_an_unknown_field_in_the_content_is_refused(exstream):
    # when
    with pytest.raises(PermanentError) as raised:
        update(exstream, "Your balance is {balance}.")

    # then
    assert raised.value.message == (
        "Exstream refused the request: The placeholder {balance} names no "
        "field of the communication."
    )


def test_a_draft_cannot_skip_review_and_be_approved(exstream):
    # given
    update(exstream, "Yours sincerely,\nAcme Billing")

    # when
    with pytest.raises(PermanentError) as raised:
        exstream.client.set_state(str(INVOICE_LETTER), "APPROVED")

    # then
    assert raised.value.message == (
        "Exstream refused the request: A communication in DRAFT cannot move to "
        "APPROVED."
    )
    assert raised.value.status == 409


def test_a_communication_in_review_is_approved_or_rejected_by_the_action(exstream):
    # when: the contract renewal (in REVIEW) is approved
    approved = run(
        exstream,
        "set_state",
        {"communication_id": str(CONTRACT_RENEWAL), "state": "APPROVED"},
    )[0]

    # then: it generates from now on; a change sends it back, and a rejected
    # review cannot be approved without a new draft
    assert (approved["name"], approved["state"]) == ("Contract renewal", "APPROVED")
    update(exstream, "Best regards", communication_id=str(CONTRACT_RENEWAL))
    run(
        exstream,
        "set_state",
        {"communication_id": str(CONTRACT_RENEWAL), "state": "REVIEW"},
    )
    rejected = run(
        exstream,
        "set_state",
        {"communication_id": str(CONTRACT_RENEWAL), "state": "REJECTED"},
    )[0]
    assert rejected["state"] == "REJECTED"
    with pytest.raises(PermanentError) as raised:
        run(
            exstream,
            "set_state",
            {"communication_id": str(CONTRACT_RENEWAL), "state": "APPROVED"},
        )
    assert raised.value.message == (
        "Exstream refused the request: A communication in REJECTED cannot move to "
        "APPROVED."
    )
