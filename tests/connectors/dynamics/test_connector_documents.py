"""Notes with attachments and SharePoint document links."""

from __future__ import annotations

import base64
import hashlib

import pytest

from connectors.base import ActionContext, Document
from connectors.errors import PermanentError
from tests.connectors.dynamics.conftest import CONTOSO, run

pytestmark = [
    pytest.mark.urls("tests.connectors.dynamics.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def chunks(size: int, step: int = 7001):
    """``size`` bytes in odd-sized chunks, so base64 must carry remainders."""
    data = (bytes(range(256)) * (size // 256 + 1))[:size]
    return [data[i : i + step] for i in range(0, size, step)], data


def add_note(dynamics, document: Document, key: str = "run-1:note") -> dict:
    return dynamics.run_action(
        "add_note",
        {"regarding_id": CONTOSO, "subject": "Signed contract", "text": "See PDF"},
        ActionContext(idempotency_key=key, documents=[document]),
    )[0]


def test_a_note_carries_the_document_as_base64(dynamics, api, web):
    # given
    parts, data = chunks(100_000)
    document = Document("contract.pdf", parts, media_type="application/pdf")

    # when
    note = add_note(dynamics, document)

    # then
    stored = web.get(
        f"{api}annotations",
        params={
            "$filter": f"_objectid_value eq {CONTOSO}",
            "$select": "subject,filename,mimetype,documentbody,isdocument,filesize",
        },
        timeout=10,
    ).json()["value"]
    assert note["created"] is True
    assert note["size"] == 100_000
    assert note["sha256"] == hashlib.sha256(data).hexdigest()
    assert len(stored) == 1
    assert stored[0]["subject"] == "Signed contract"
    assert stored[0]["filename"] == "contract.pdf"
    assert stored[0]["mimetype"] == "application/pdf"
    assert stored[0]["isdocument"] is True
    assert stored[0]["filesize"] == 100_000
    assert base64.b64decode(stored[0]["documentbody"]) == data


def test_a_repeated_note_is_stored_once(dynamics, api, web):
    # when
    first = add_note(dynamics, Document.from_bytes("a.txt", b"hello"))
    again = add_note(dynamics, Document.from_bytes("a.txt", b"hello"))

    # then
    assert (first["created"], again["created"]) == (True, False)
    assert first["id"] == again["id"]
    notes = web.get(f"{api}annotations", timeout=10).json()["value"]
    assert len(notes) == 1


def test_a_document_above_the_limit_is_refused_before_sending(dynamics, api, web):
    # given
    dynamics.config.max_attachment_bytes = 1000
    parts, _ = chunks(5000, step=600)

    # when
    with pytest.raises(PermanentError) as raised:
        add_note(dynamics, Document("big.pdf", parts))

    # then
    assert raised.value.message == (
        "big.pdf is 1,200 bytes or more, larger than the 1,000 bytes this "
        "connection allows for a Dynamics 365 note attachment: raise the limit "
        "in the connection (and in Dataverse's system settings) or send a "
        "smaller document."
    )
    assert web.get(f"{api}annotations", timeout=10).json()["value"] == []


def test_a_note_on_an_unknown_record_names_it(dynamics):
    # when
    with pytest.raises(PermanentError) as raised:
        dynamics.run_action(
            "add_note",
            {"regarding_id": "00000000-0000-4000-8000-00000000dead"},
            ActionContext(
                idempotency_key="k", documents=[Document.from_bytes("a.txt", b"x")]
            ),
        )

    # then
    assert raised.value.status == 404
    assert raised.value.message.startswith(
        "Dynamics 365 could not find the account with id "
        "00000000-0000-4000-8000-00000000dead"
    )


def test_a_document_link_binds_the_record(dynamics, api, web):
    # when
    link = run(
        dynamics,
        "link_document",
        {
            "regarding_id": CONTOSO,
            "name": "Contracts",
            "relative_url": "account/contoso_contracts",
        },
        key="run-2:link",
    )
    again = run(
        dynamics,
        "link_document",
        {
            "regarding_id": CONTOSO,
            "name": "Contracts",
            "relative_url": "account/contoso_contracts",
        },
        key="run-2:link",
    )

    # then
    assert link["created"] is True
    assert again["created"] is False
    assert link["record"]["_regardingobjectid_value"] == CONTOSO
    assert link["record"]["relativeurl"] == "account/contoso_contracts"
    stored = web.get(f"{api}sharepointdocumentlocations", timeout=10).json()["value"]
    assert [s["name"] for s in stored] == ["Contracts"]
