"""The "When a document is added or changed" polling trigger."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import ActionContext, Document
from connectors.otcs.connector import ContentServerConnector

pytestmark = [
    pytest.mark.urls("tests.connectors.otcs.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]

TRIGGER = "new_or_changed_documents"


def upload(otcs: ContentServerConnector, name: str, content: bytes) -> int:
    document = Document.from_bytes(name, content)
    context = ActionContext(idempotency_key=f"key-{name}", documents=[document])
    values = {"parent_id": 2000, "folder_path": "Inbox"}
    return otcs.run_action("upload_document", values, context)[0]["node_id"]


def inbox(otcs: ContentServerConnector) -> int:
    return otcs.client.child_named(2000, "Inbox")["id"]


def test_each_new_or_changed_document_is_reported_once(otcs):
    # given a baseline poll of a folder that holds one document
    old = upload(otcs, "old.pdf", b"old")
    params = {"folder_id": inbox(otcs)}
    baseline = otcs.poll(TRIGGER, params, None)
    assert baseline.events == []

    # when two documents arrive
    time.sleep(1.1)  # Content Server dates have one-second resolution
    first = upload(otcs, "first.pdf", b"1")
    second = upload(otcs, "second.pdf", b"2")
    poll_1 = otcs.poll(TRIGGER, params, baseline.cursor)

    # and then one of them changes and a third arrives
    time.sleep(1.1)
    upload(otcs, "first.pdf", b"1, corrected")
    third = upload(otcs, "third.pdf", b"3")
    poll_2 = otcs.poll(TRIGGER, params, poll_1.cursor)
    poll_3 = otcs.poll(TRIGGER, params, poll_2.cursor)

    # then
    assert [e.payload["id"] for e in poll_1.events] == [first, second]
    assert [e.payload["id"] for e in poll_2.events] == [first, third]
    assert poll_3.events == []
    assert old not in [e.payload["id"] for e in poll_1.events + poll_2.events]
    changed = poll_2.events[0]
    assert changed.event_id == f"{first}:{changed.payload['modify_date']}"
    assert changed.event_id != poll_1.events[0].event_id
    assert changed.payload["name"] == "first.pdf"
    assert changed.occurred_at == datetime.fromisoformat(changed.payload["modify_date"])


def test_a_change_dated_before_the_cursor_is_not_missed(otcs):
    # given a document whose change was committed after a poll had already
    # moved the cursor past its modify date (a slow transaction)
    node_id = upload(otcs, "late.pdf", b"late")
    cursor = json.dumps(
        {"since": (datetime.now(UTC) + timedelta(seconds=60)).isoformat()}
    )

    # when
    result = otcs.poll(TRIGGER, {"folder_id": inbox(otcs)}, cursor)

    # then
    assert [e.payload["id"] for e in result.events] == [node_id]


def test_a_folder_empty_at_the_first_poll_reports_its_first_document(otcs):
    # given
    upload(otcs, "seed.pdf", b"seed")
    folder = inbox(otcs)
    otcs.client.create_folder(folder, "Empty")
    empty = otcs.client.child_named(folder, "Empty")["id"]
    baseline = otcs.poll(TRIGGER, {"folder_id": empty}, None)

    # when
    document = Document.from_bytes("new.pdf", b"new")
    context = ActionContext(idempotency_key="new", documents=[document])
    values = {"parent_id": empty}
    node_id = otcs.run_action("upload_document", values, context)[0]["node_id"]
    result = otcs.poll(TRIGGER, {"folder_id": empty}, baseline.cursor)

    # then
    assert [e.payload["id"] for e in result.events] == [node_id]
