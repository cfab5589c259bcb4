"""Downloading, reading, classifying and finding documents."""

from __future__ import annotations

import hashlib

import pytest

from connectors.base import ActionContext, Document
from connectors.otcs.connector import ContentServerConnector

pytestmark = [
    pytest.mark.urls("tests.connectors.otcs.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]

CONTENT = bytes(range(256)) * 1000  # binary, 256,000 bytes


def upload(otcs: ContentServerConnector, name: str, content: bytes, **params) -> int:
    document = Document.from_bytes(name, content, media_type="application/pdf")
    context = ActionContext(idempotency_key=f"key-{name}", documents=[document])
    values = {"parent_id": 2000, "folder_path": "Docs", **params}
    return otcs.run_action("upload_document", values, context)[0]["node_id"]


def test_download_returns_the_exact_bytes_and_their_sha256(otcs):
    # given
    node_id = upload(otcs, "scan.pdf", CONTENT)

    # when
    output, documents = otcs.run_action(
        "download", {"node_id": node_id}, ActionContext()
    )

    # then
    digest = hashlib.sha256(CONTENT).hexdigest()
    assert output == {
        "node_id": node_id,
        "name": "scan.pdf",
        "size": len(CONTENT),
        "sha256": digest,
        "media_type": "application/pdf",
    }
    [document] = documents
    assert (document.name, document.read()) == ("scan.pdf", CONTENT)
    assert document.sha256 == digest


def test_download_of_an_older_version(otcs):
    # given
    node_id = upload(otcs, "scan.pdf", CONTENT)
    upload(otcs, "scan.pdf", b"second version")

    # when
    output, documents = otcs.run_action(
        "download", {"node_id": node_id, "version": 1}, ActionContext()
    )

    # then
    assert output["size"] == len(CONTENT)
    assert documents[0].read() == CONTENT


def test_apply_categories_applies_new_ones_and_updates_others(otcs):
    # given a document with the Source category only
    node_id = upload(otcs, "scan.pdf", CONTENT, source_key="S-1")
    values = {"9830_2": "INV-9", "9831_3": "S-2"}

    # when
    output, _ = otcs.run_action(
        "apply_categories", {"node_id": node_id, "values": values}, ActionContext()
    )

    # then
    assert (output["applied"], output["updated"]) == ([9830], [9831])
    assert output["categories"]["9830_2"] == "INV-9"
    assert output["categories"]["9831_3"] == "S-2"
    # and applying the same values again changes nothing
    again, _ = otcs.run_action(
        "apply_categories", {"node_id": node_id, "values": values}, ActionContext()
    )
    assert (again["applied"], again["updated"]) == ([], [])


def test_search_finds_documents_by_name_and_type(otcs):
    # given
    first = upload(otcs, "Invoice-1.pdf", b"one")
    second = upload(otcs, "Invoice-2.pdf", b"two")
    upload(otcs, "Letter.pdf", b"three")

    # when
    output, _ = otcs.run_action(
        "search",
        {"where": 'OTName:"Invoice*" AND OTSubType:144', "sort": "asc_OTName"},
        ActionContext(),
    )

    # then
    assert [item["id"] for item in output["results"]] == [first, second]
    assert [item["name"] for item in output["results"]] == [
        "Invoice-1.pdf",
        "Invoice-2.pdf",
    ]
    assert (output["page"], output["page_total"], output["total_count"]) == (1, 1, 2)


def test_search_pages(otcs):
    # given
    ids = [upload(otcs, f"Invoice-{n}.pdf", str(n).encode()) for n in range(3)]

    # when
    output, _ = otcs.run_action(
        "search",
        {"where": 'OTName:"Invoice*"', "sort": "asc_OTName", "page": 2, "limit": 2},
        ActionContext(),
    )

    # then
    assert [item["id"] for item in output["results"]] == ids[2:]
    assert (output["page"], output["page_total"], output["total_count"]) == (2, 2, 3)
