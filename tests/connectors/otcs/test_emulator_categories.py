"""The emulated Content Server: categories on nodes, checked against their
definitions."""

from __future__ import annotations

import json

import pytest

from tests.connectors.otcs.test_emulator_nodes import Otcs

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")


@pytest.fixture
def otcs(live_server, settings, tmp_path) -> Otcs:
    settings.VAR_DIR = tmp_path
    return Otcs(f"{live_server.url}/sandbox/otcs/api")


def categories(otcs: Otcs, node: int) -> dict[int, dict]:
    answer = otcs.call("GET", f"v2/nodes/{node}/categories", params={"metadata": ""})
    assert answer.status_code == 200
    return {
        int(next(iter(r["metadata"]))): r["data"]["categories"]
        for r in answer.json()["results"]
    }


def test_upload_with_flat_v2_categories(otcs):
    # given
    body = {
        "type": 144,
        "parent_id": 2000,
        "name": "inv.txt",
        "roles": {
            "categories": {
                "9830_2": "INV-7",
                "9830_4": ["a", "b"],
                "9831_2": "erp",
                "9831_3": "run-7-step-2",
            }
        },
    }

    # when
    answer = otcs.call(
        "POST",
        "v2/nodes",
        data={"body": json.dumps(body)},
        files={"file": ("inv.txt", b"x")},
    )

    # then
    node = answer.json()["results"]["data"]["properties"]["id"]
    assert categories(otcs, node) == {
        9830: {
            "9830_2": "INV-7",
            "9830_3": None,
            "9830_4": ["a", "b"],
            "9830_5_1_6": None,
            "9830_5_1_7": None,
        },
        9831: {
            "9831_2": "erp",
            "9831_3": "run-7-step-2",
        },
    }


def test_upload_with_nested_v1_categories(otcs):
    # given
    body = {
        "type": 144,
        "parent_id": 2000,
        "name": "inv.txt",
        "roles": {"categories": {"9831": {"9831_3": "key-1"}}},
    }

    # when
    answer = otcs.call(
        "POST",
        "v1/nodes",
        data={"body": json.dumps(body)},
        files={"file": ("inv.txt", b"x")},
    )

    # then
    assert categories(otcs, answer.json()["id"])[9831]["9831_3"] == "key-1"


def test_an_unknown_attribute_on_upload_is_a_400_and_creates_nothing(otcs):
    # given
    body = {
        "type": 144,
        "parent_id": 2000,
        "name": "inv.txt",
        "roles": {"categories": {"9830_99": "x"}},
    }

    # when
    answer = otcs.call(
        "POST",
        "v2/nodes",
        data={"body": json.dumps(body)},
        files={"file": ("inv.txt", b"x")},
    )

    # then
    assert answer.status_code == 400
    assert answer.json() == {"error": "Attribute 9830_99 is not part of category 9830."}
    listed = otcs.call("GET", "v2/nodes/2000/nodes").json()
    assert listed["collection"]["paging"]["total_count"] == 0


def test_apply_update_read_and_remove_a_category(otcs):
    # given
    node = otcs.folder("Invoices")

    # when
    applied = otcs.call(
        "POST",
        f"v2/nodes/{node}/categories",
        data={
            "body": json.dumps(
                {"category_id": 9830, "9830_2": "INV-1", "9830_5_1_6": "Bolts"}
            )
        },
    )
    updated = otcs.call(
        "PUT",
        f"v2/nodes/{node}/categories/9830/",
        data={"body": json.dumps({"9830_3": 125, "9830_5_2_7": 4})},
    )
    after_update = categories(otcs, node)[9830]
    removed = otcs.call("DELETE", f"v2/nodes/{node}/categories/9830")

    # then
    assert [applied.status_code, updated.status_code, removed.status_code] == [
        200,
        200,
        200,
    ]
    assert after_update == {
        "9830_2": "INV-1",
        "9830_3": 125,
        "9830_4": [],
        "9830_5_1_6": "Bolts",
        "9830_5_1_7": None,
        "9830_5_2_7": 4,
    }
    assert categories(otcs, node) == {}


def test_apply_with_defaults(otcs):
    # given
    node = otcs.folder("Sources")

    # when
    answer = otcs.call(
        "POST",
        f"v2/nodes/{node}/categories",
        data={"body": json.dumps({"category_id": 9831, "9831_1": {}})},
    )

    # then
    assert answer.status_code == 200
    assert categories(otcs, node)[9831] == {
        "9831_2": None,
        "9831_3": None,
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"9830_9": "x"}, "Attribute 9830_9 is not part of category 9830."),
        ({"9830_3": "lots"}, "Attribute 9830_3 must be a whole number."),
        ({"9830_2": ["a", "b"]}, "Attribute 9830_2 takes a single value, not a list."),
        ({"9830_5_1_9": "x"}, "Attribute 9830_5_1_9 is not part of category 9830."),
    ],
)
def test_invalid_values_are_a_400(otcs, values, message):
    # given
    node = otcs.folder("Invoices")

    # when
    answer = otcs.call(
        "POST",
        f"v2/nodes/{node}/categories",
        data={"body": json.dumps({"category_id": 9830, **values})},
    )

    # then
    assert answer.status_code == 400
    assert answer.json() == {"error": message}
    assert categories(otcs, node) == {}


def test_unknown_or_missing_categories_are_a_400(otcs):
    # given
    node = otcs.folder("Invoices")

    # when
    unknown = otcs.call(
        "POST", f"v2/nodes/{node}/categories", data={"category_id": 1234}
    )
    not_applied = otcs.call(
        "PUT", f"v2/nodes/{node}/categories/9830", data={"9830_2": "x"}
    )

    # then
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"error": "Could not get a category for 1234"},
    )
    assert (not_applied.status_code, not_applied.json()) == (
        400,
        {"error": f"Category 9830 is not applied to node {node}."},
    )
