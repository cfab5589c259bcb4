"""The emulated Content Server: uploads, versions and downloads, streamed."""

from __future__ import annotations

import json

import pytest

from tests.connectors.otcs.test_emulator_nodes import Otcs

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")


@pytest.fixture
def otcs(live_server, settings, tmp_path) -> Otcs:
    settings.VAR_DIR = tmp_path
    return Otcs(f"{live_server.url}/sandbox/otcs/api")


def test_uploading_a_document_stores_its_bytes(otcs, tmp_path):
    # given
    content = b"%PDF-1.7 invoice\n" * 1000
    body = {
        "type": 144,
        "parent_id": 2000,
        "name": "invoice.pdf",
        "description": "March",
        "external_create_date": "2025-01-18",
    }

    # when
    answer = otcs.call(
        "POST",
        "v2/nodes",
        data={"body": json.dumps(body)},
        files={"file": ("invoice.pdf", content, "application/pdf")},
    )

    # then
    assert answer.status_code == 200
    node = answer.json()["results"]["data"]["properties"]
    assert (node["type"], node["type_name"], node["size"], node["mime_type"]) == (
        144,
        "Document",
        17000,
        "application/pdf",
    )
    assert (node["description"], node["external_create_date"]) == (
        "March",
        "2025-01-18T00:00:00Z",
    )
    blobs = list((tmp_path / "sandbox" / "otcs" / "blobs").iterdir())
    assert [blob.read_bytes() for blob in blobs] == [content]


def test_a_document_without_a_file_is_a_400(otcs):
    # when
    answer = otcs.call(
        "POST", "v2/nodes", data={"type": 144, "parent_id": 2000, "name": "x.pdf"}
    )

    # then
    assert answer.status_code == 400
    assert answer.json() == {"error": "A file is required to add a document."}


def test_adding_versions_and_downloading_each_one(otcs):
    # given
    node = otcs.document("contract.txt", b"first draft")

    # when
    minor = otcs.call(
        "POST",
        f"v2/nodes/{node}/versions",
        data={"description": "reviewed"},
        files={"file": ("contract.txt", b"second draft", "text/plain")},
    )
    major = otcs.call(
        "POST",
        f"v2/nodes/{node}/versions",
        data={"add_major_version": "true"},
        files={"file": ("contract-signed.txt", b"signed", "text/plain")},
    )
    listed = otcs.call("GET", f"v2/nodes/{node}/versions")
    downloads = [
        otcs.call("GET", f"v2/nodes/{node}/versions/{n}/content") for n in (1, 2, 3)
    ]
    latest = otcs.call("GET", f"v2/nodes/{node}/content")

    # then
    assert minor.json()["results"]["data"]["version_number"] == 2
    assert major.json()["results"]["data"]["versions"]["version_number_name"] == "2.0"
    versions = [r["data"]["versions"] for r in listed.json()["results"]]
    assert [
        (
            v["version_number"],
            v["version_number_name"],
            v["file_size"],
            v["description"],
        )
        for v in versions
    ] == [(1, "1.0", 11, ""), (2, "1.1", 12, "reviewed"), (3, "2.0", 6, "")]
    assert [d.content for d in downloads] == [
        b"first draft",
        b"second draft",
        b"signed",
    ]
    assert latest.content == b"signed"
    assert latest.headers["Content-Type"] == "text/plain"
    assert latest.headers["Content-Length"] == "6"
    assert latest.headers["Content-Disposition"] == (
        'attachment; filename="contract-signed.txt"'
    )
    assert latest.headers["OTCSTicket"] == otcs.headers["OTCSTicket"]
    node_now = otcs.call("GET", f"v2/nodes/{node}").json()["results"]["data"]
    assert node_now["properties"]["size"] == 6


def test_an_unknown_version_is_a_400(otcs):
    # given
    node = otcs.document("a.txt", b"a")

    # when
    answer = otcs.call("GET", f"v2/nodes/{node}/versions/9/content")

    # then
    assert answer.status_code == 400
    assert answer.json() == {"error": f"Could not get version 9 of node {node}"}


def test_a_large_upload_streams_through(otcs):
    # given: bigger than Django's in-memory upload limit (2.5 MB)
    content = bytes(range(256)) * (12 * 1024)

    # when
    node = otcs.document("big.bin", content)
    answer = otcs.call("GET", f"v1/nodes/{node}/content", stream=True)

    # then
    assert answer.headers["Content-Length"] == str(len(content))
    assert b"".join(answer.iter_content(65536)) == content
