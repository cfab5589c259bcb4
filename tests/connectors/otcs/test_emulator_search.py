"""The emulated Content Server: search with a subset of LQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from connectors.sandbox.models import OtcsNode
from tests.connectors.otcs.test_emulator_nodes import Otcs

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")


@pytest.fixture
def otcs(live_server, settings, tmp_path) -> Otcs:
    settings.VAR_DIR = tmp_path
    return Otcs(f"{live_server.url}/sandbox/otcs/api")


@pytest.fixture
def documents(otcs) -> dict[str, int]:
    folder = otcs.folder("Invoices 2025")
    made = {"folder": folder}
    for name, number, day in [
        ("Invoice 1.pdf", "INV-1", 10),
        ("Invoice 2.pdf", "INV-2", 20),
        ("Order 1.pdf", None, 25),
    ]:
        body = {"type": 144, "parent_id": folder, "name": name}
        if number:
            body["roles"] = {"categories": {"9830_2": number, "9830_4": ["x", "y"]}}
        answer = otcs.call(
            "POST",
            "v2/nodes",
            data={"body": json.dumps(body)},
            files={"file": (name, b"pdf")},
        )
        node = answer.json()["results"]["data"]["properties"]["id"]
        OtcsNode.objects.filter(id=node).update(
            modify_date=datetime(2025, 3, day, 12, tzinfo=UTC)
        )
        made[name] = node
    return made


def search(otcs: Otcs, **form) -> tuple[list[str], dict]:
    answer = otcs.call("POST", "v2/search", data=form)
    assert answer.status_code == 200, answer.text
    found = [r["data"]["properties"]["name"] for r in answer.json()["results"]]
    return found, answer.json()["collection"]["paging"]


def test_search_by_name_with_a_wildcard(otcs, documents):
    # when
    found, paging = search(otcs, where='OTName:"invoice*"', sort="asc_OTName")

    # then
    assert found == ["Invoice 1.pdf", "Invoice 2.pdf", "Invoices 2025"]
    assert paging == {
        "limit": 25,
        "page": 1,
        "page_total": 1,
        "range_min": 1,
        "range_max": 3,
        "total_count": 3,
        "result_header_string": "Results 1 to 3 of 3",
    }


def test_search_by_name_and_subtype(otcs, documents):
    # when
    found, _ = search(
        otcs, where='OTName:"Invoice*" AND OTSubType:144', sort="desc_OTName"
    )

    # then
    assert found == ["Invoice 2.pdf", "Invoice 1.pdf"]


def test_search_by_modify_date_range(otcs, documents):
    # when
    open_ended, _ = search(
        otcs,
        where="OTSubType:144 AND OTModifyDate:[2025-03-15T00:00:00Z TO *]",
        sort="asc_OTObjectDate",
    )
    closed, _ = search(otcs, where="OTModifyDate:[20250301 TO 2025-03-21]")

    # then
    assert open_ended == ["Invoice 2.pdf", "Order 1.pdf"]
    assert closed == ["Invoice 1.pdf", "Invoice 2.pdf"]


def test_search_by_category_value(otcs, documents):
    # when
    by_region, _ = search(otcs, where='Attr_9830_2:"INV-2"')
    by_key, _ = search(otcs, where='"9830_2":"inv-*" AND OTSubType:144')
    by_multi_value, _ = search(otcs, where="Attr_9830_4:y")

    # then
    assert by_region == ["Invoice 2.pdf"]
    assert by_key == ["Invoice 1.pdf", "Invoice 2.pdf"]
    assert by_multi_value == ["Invoice 1.pdf", "Invoice 2.pdf"]


def test_search_pages(otcs, documents):
    # when
    found, paging = search(
        otcs, where="OTSubType:144", sort="asc_OTName", page=2, limit=2
    )

    # then
    assert found == ["Order 1.pdf"]
    assert (paging["range_min"], paging["range_max"], paging["page_total"]) == (
        3,
        3,
        2,
    )


def test_search_results_carry_regions(otcs, documents):
    # when
    answer = otcs.call("POST", "v2/search", data={"where": 'OTName:"Order 1.pdf"'})

    # then
    [result] = answer.json()["results"]
    assert result["data"]["regions"] == {
        "OTName": "Order 1.pdf",
        "OTLocation": "Enterprise Workspace:Invoices 2025",
        "OTSubType": 144,
    }
    assert result["data"]["properties"]["id"] == documents["Order 1.pdf"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("", "Argument where is required."),
        ("OTName:a OR OTName:b", "The sandbox search does not support OR."),
        ("OTColour:red", "The sandbox search does not know region OTColour."),
        ("OTModifyDate:2025", "OTModifyDate takes a range: [from TO to]."),
    ],
)
def test_queries_the_sandbox_cannot_answer_are_a_400(otcs, where, message):
    # when
    answer = otcs.call("POST", "v2/search", data={"where": where})

    # then
    assert answer.status_code == 400
    assert answer.json() == {"error": message}
