"""Uploading documents: folders, categories, retries, versions, name clashes."""

from __future__ import annotations

import hashlib
import tracemalloc
from typing import Any

import pytest

from connectors.base import ActionContext, Document
from connectors.errors import PermanentError
from connectors.otcs.client import NameExistsError
from connectors.otcs.connector import ContentServerConnector

pytestmark = [
    pytest.mark.urls("tests.connectors.otcs.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]

PDF = b"%PDF-1.7 invoice A-17\n" * 100
CHANGED = b"%PDF-1.7 invoice A-17, corrected\n" * 100


def upload(
    otcs: ContentServerConnector, content: bytes, key: str = "run-1-step-1", **params
) -> dict[str, Any]:
    document = Document.from_bytes("A-17.pdf", content, media_type="application/pdf")
    context = ActionContext(idempotency_key=key, documents=[document])
    values = {"parent_id": 2000, "folder_path": "Invoices/2026/March", **params}
    output, documents = otcs.run_action("upload_document", values, context)
    assert documents == []
    return output


def node(otcs: ContentServerConnector, node_id: int) -> dict[str, Any]:
    output, _ = otcs.run_action("get_node", {"node_id": node_id}, ActionContext())
    return output


def test_upload_creates_missing_folders_and_sets_category_values(otcs):
    # when
    output = upload(
        otcs, PDF, categories={"9830_2": "A-17", "9830_3": 1250}, source_key="SAP-A17"
    )

    # then
    assert output == {
        "node_id": output["node_id"],
        "version": 1,
        "created": True,
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "size": len(PDF),
        "name": "A-17.pdf",
    }
    stored = node(otcs, output["node_id"])
    assert (stored["name"], stored["type"], stored["size"]) == ("A-17.pdf", 144, 2200)
    categories = stored["categories"]
    assert (categories["9830_2"], categories["9830_3"]) == ("A-17", 1250)
    assert (categories["9831_2"], categories["9831_3"]) == ("xConnector", "SAP-A17")
    march = node(otcs, stored["parent_id"])
    year = node(otcs, march["parent_id"])
    invoices = node(otcs, year["parent_id"])
    assert [invoices["name"], year["name"], march["name"]] == [
        "Invoices",
        "2026",
        "March",
    ]
    assert (invoices["parent_id"], invoices["type"]) == (2000, 0)


def test_the_same_upload_again_returns_the_same_node(otcs):
    # given
    first = upload(otcs, PDF)

    # when
    again = upload(otcs, PDF)

    # then
    assert again == {**first, "created": False}
    assert node(otcs, first["node_id"])["size"] == len(PDF)


def test_changed_content_for_the_same_key_adds_version_2(otcs):
    # given
    first = upload(otcs, PDF)

    # when
    changed = upload(otcs, CHANGED)

    # then
    assert changed == {
        "node_id": first["node_id"],
        "version": 2,
        "created": False,
        "sha256": hashlib.sha256(CHANGED).hexdigest(),
        "size": len(CHANGED),
        "name": "A-17.pdf",
    }
    # and repeating the changed upload adds nothing
    assert upload(otcs, CHANGED)["version"] == 2


def test_a_same_named_document_from_another_source_is_a_name_clash(otcs):
    # given
    first = upload(otcs, PDF, key="run-1-step-1")

    # when
    with pytest.raises(NameExistsError) as raised:
        upload(otcs, CHANGED, key="run-2-step-1")

    # then
    assert isinstance(raised.value, PermanentError)
    assert raised.value.message.startswith("Folder ")
    assert f"“A-17.pdf” (node {first['node_id']})" in raised.value.message


def test_add_version_is_safe_to_repeat(otcs):
    # given
    first = upload(otcs, PDF)
    params = {"node_id": first["node_id"], "description": "corrected"}

    def add() -> dict[str, Any]:
        document = Document.from_bytes("A-17.pdf", CHANGED)
        context = ActionContext(idempotency_key="run-3", documents=[document])
        return otcs.run_action("add_version", params, context)[0]

    # when
    added, repeated = add(), add()

    # then
    expected = {
        "node_id": first["node_id"],
        "version": 2,
        "sha256": hashlib.sha256(CHANGED).hexdigest(),
        "size": len(CHANGED),
    }
    assert (added, repeated) == (expected, expected)


def test_upload_without_a_document_is_refused(otcs):
    # when
    with pytest.raises(PermanentError) as raised:
        otcs.run_action("upload_document", {"parent_id": 2000}, ActionContext("k"))

    # then
    assert raised.value.message == (
        "This step needs a document, and the run has none: put a step that "
        "produces one before it."
    )


def test_a_large_upload_is_streamed_not_held_in_memory(otcs):
    # given a 48 MB document arriving in 64 KB chunks
    chunk, count = b"x" * (1 << 16), 768
    size = len(chunk) * count
    document = Document("big.bin", (chunk for _ in range(count)), size=size)
    context = ActionContext(idempotency_key="big", documents=[document])

    # when
    tracemalloc.start()
    try:
        output, _ = otcs.run_action("upload_document", {"parent_id": 2000}, context)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then at most the in-memory spool (8 MB) plus buffers was held at once
    assert (output["size"], output["created"]) == (size, True)
    assert peak < 20 * (1 << 20), peak
