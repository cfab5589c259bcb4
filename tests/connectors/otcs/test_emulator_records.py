"""The emulated Content Server: RM classifications and holds."""

from __future__ import annotations

import json

import pytest

from tests.connectors.otcs.test_emulator_nodes import Otcs

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")

FINANCE, ACCOUNTS, LEGAL = 2201, 2202, 2203


@pytest.fixture
def otcs(live_server, settings, tmp_path) -> Otcs:
    settings.VAR_DIR = tmp_path
    return Otcs(f"{live_server.url}/sandbox/otcs/api")


def classify(otcs: Otcs, node: int, **body) -> int:
    answer = otcs.call(
        "POST", f"v1/nodes/{node}/rmclassifications", data={"body": json.dumps(body)}
    )
    return answer.status_code


def class_ids(otcs: Otcs, node: int) -> list[int]:
    answer = otcs.call("GET", f"v1/nodes/{node}/rmclassifications")
    return [row["rmclassification_id"] for row in answer.json()["data"]]


def new_hold(otcs: Otcs, name: str) -> int:
    answer = otcs.call(
        "POST",
        "v1/holds",
        data={
            "type": "LEGAL",
            "name": name,
            "comment": "Case 7",
            "date_applied": "2026-01-02T03:04:05",
            "date_to_remove": "",
            "alternate_id": "",
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["holdID"]


def test_classify_a_node_and_its_sub_items(otcs):
    # given
    folder = otcs.folder("Records")
    document = otcs.document("r.txt", b"x", parent=folder)

    # when
    status = classify(otcs, folder, class_id=ACCOUNTS, apply_to_sub_items=True)

    # then
    assert status == 200
    answer = otcs.call("GET", f"v1/nodes/{folder}/rmclassifications").json()
    row = answer["data"][0]
    assert (row["rmclassification_id"], row["name"], row["file_status"]) == (
        ACCOUNTS,
        "Customer accounts",
        "ACTIVE",
    )
    assert len(answer["rm_metadataToken"]) == 32
    assert class_ids(otcs, document) == [ACCOUNTS]


def test_classify_twice_and_with_a_stale_token(otcs):
    # given
    node = otcs.folder("Records")
    token = otcs.call("GET", f"v1/nodes/{node}/rmclassifications").json()[
        "rm_metadataToken"
    ]
    classify(otcs, node, class_id=FINANCE, rm_metadataToken=token)

    # when
    again = classify(otcs, node, class_id=FINANCE)
    stale = otcs.call(
        "POST",
        f"v1/nodes/{node}/rmclassifications",
        data={"body": json.dumps({"class_id": LEGAL, "rm_metadataToken": token})},
    )

    # then
    assert again == 200
    assert class_ids(otcs, node) == [FINANCE]
    assert (stale.status_code, stale.json()) == (
        400,
        {"error": "The records details were changed by someone else: reload them."},
    )


def test_classification_errors(otcs):
    # given
    node = otcs.folder("Records")

    # when
    not_a_class = otcs.call(
        "POST", f"v1/nodes/{node}/rmclassifications", data={"class_id": "2000"}
    )
    unknown_node = otcs.call("GET", "v1/nodes/123/rmclassifications")
    not_applied = otcs.call("DELETE", f"v1/nodes/{node}/rmclassifications/{LEGAL}")

    # then
    assert (not_a_class.status_code, not_a_class.json()) == (
        400,
        {"error": "Could not get an RM classification for 2000"},
    )
    assert (unknown_node.status_code, unknown_node.json()) == (
        400,
        {"error": "Could not get a node for 123"},
    )
    assert (not_applied.status_code, not_applied.json()) == (
        400,
        {"error": f"Node {node} does not have RM classification {LEGAL}."},
    )


def test_update_details_and_remove_a_classification(otcs):
    # given
    node = otcs.folder("Records")
    classify(otcs, node, class_id=LEGAL)
    token = otcs.call("GET", f"v1/nodes/{node}/rmclassifications").json()[
        "rm_metadataToken"
    ]

    # when
    without = otcs.call("PUT", f"v1/nodes/{node}/rmclassifications", data={"rsi": "X"})
    updated = otcs.call(
        "PUT",
        f"v1/nodes/{node}/rmclassifications",
        data={"rm_metadataToken": token, "official": "true", "rsi": "R1"},
    )
    row = otcs.call("GET", f"v1/nodes/{node}/rmclassifications").json()["data"][0]
    removed = otcs.call("DELETE", f"v1/nodes/{node}/rmclassifications/{LEGAL}")

    # then
    assert (without.status_code, without.json()) == (
        400,
        {"error": "Argument rm_metadataToken is required."},
    )
    assert updated.status_code == 200
    assert (row["official"], row["rsi"]) == (True, "R1")
    assert removed.status_code == 200
    assert class_ids(otcs, node) == []


def test_create_list_find_and_delete_holds(otcs):
    # given
    hold = new_hold(otcs, "HOLD_10")

    # when
    listed = otcs.call("GET", "v1/holds")
    listed_v2 = otcs.call("GET", "v2/holds")
    by_name = otcs.call("GET", "v2/hold", params={"holdname": "HOLD_10"})
    duplicate = otcs.call(
        "POST",
        "v1/holds",
        data={"type": "LEGAL", "name": "HOLD_10", "date_applied": "2026-01-02"},
    )
    deleted = otcs.call("DELETE", f"v1/holds/{hold}")
    gone = otcs.call("GET", "v2/hold", params={"holdname": "HOLD_10"})

    # then
    assert listed.json() == [{"HoldID": hold, "HoldName": "HOLD_10", "ActiveHold": 1}]
    assert [h["HoldID"] for h in listed_v2.json()["results"]["data"]["holds"]] == [hold]
    found = by_name.json()["results"]["data"]["hold"]
    assert (
        found["HoldID"],
        found["HoldType"],
        found["HoldComment"],
        found["DateApplied"],
    ) == (hold, "LEGAL", "Case 7", "2026-01-02T03:04:05Z")
    assert (duplicate.status_code, duplicate.json()) == (
        500,
        {"error": "A hold with the name 'HOLD_10' already exists."},
    )
    assert deleted.status_code == 200
    assert (gone.status_code, gone.json()) == (
        404,
        {"error": "Could not get a hold named 'HOLD_10'"},
    )


def test_creating_a_hold_needs_type_and_name(otcs):
    # when
    answer = otcs.call("POST", "v1/holds", data={"name": "H"})

    # then
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "Argument type is required."},
    )


def test_apply_list_and_remove_a_hold_on_a_node(otcs):
    # given
    hold = new_hold(otcs, "Case 7")
    node = otcs.document("held.txt", b"x")

    # when
    applied = otcs.call(
        "POST", f"v1/nodes/{node}/holds", data={"body": json.dumps({"hold_id": hold})}
    )
    again = otcs.call("POST", f"v1/nodes/{node}/holds", data={"hold_id": hold})
    listed = otcs.call("GET", f"v1/nodes/{node}/holds").json()["data"]
    removed = otcs.call("DELETE", f"v1/nodes/{node}/holds/{hold}")
    not_held = otcs.call("DELETE", f"v1/nodes/{node}/holds/{hold}")
    unknown = otcs.call("POST", f"v1/nodes/{node}/holds", data={"hold_id": "99"})

    # then
    assert (applied.status_code, again.status_code) == (200, 200)
    assert [
        (h["hold_id"], h["hold_name"], h["hold_type"], h["active"]) for h in listed
    ] == [(hold, "Case 7", "LEGAL", True)]
    assert removed.status_code == 200
    assert (not_held.status_code, not_held.json()) == (
        400,
        {"error": f"Hold {hold} is not applied to node {node}."},
    )
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"error": "Could not get a hold for 99"},
    )


def test_a_node_under_hold_cannot_be_deleted_nor_its_folder(otcs):
    # given
    hold = new_hold(otcs, "Case 7")
    folder = otcs.folder("Matter")
    node = otcs.document("held.txt", b"x", parent=folder)
    otcs.call("POST", f"v1/nodes/{node}/holds", data={"hold_id": hold})

    # when
    direct = otcs.call("DELETE", f"v2/nodes/{node}")
    parent = otcs.call("DELETE", f"v1/nodes/{folder}")
    otcs.call("DELETE", f"v1/nodes/{node}/holds/{hold}")
    lifted = otcs.call("DELETE", f"v2/nodes/{folder}")

    # then
    message = f"Node {node} is under hold 'Case 7' and cannot be deleted."
    assert (direct.status_code, direct.json()) == (403, {"error": message})
    assert (parent.status_code, parent.json()) == (403, {"error": message})
    assert lifted.status_code == 200
    assert otcs.call("GET", f"v2/nodes/{node}").status_code == 400
