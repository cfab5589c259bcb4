"""Records management actions against the emulated Content Server."""

from __future__ import annotations

import pytest
import requests

from connectors.errors import PermanentError
from connectors.otcs.client import NodeNotFoundError
from connectors.otcs.connector import ContentServerConnector
from tests.connectors.otcs.conftest import run

pytestmark = [
    pytest.mark.urls("tests.connectors.otcs.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]

ACCOUNTS, LEGAL = 2202, 2203


def folder(otcs: ContentServerConnector, name: str) -> int:
    return otcs.client.create_folder(2000, name)["id"]


def delete(otcs: ContentServerConnector, node_id: int) -> requests.Response:
    return requests.delete(
        f"{otcs.config.base_url}v2/nodes/{node_id}",
        headers={"OTCSTicket": otcs.client.authenticate()},
        timeout=10,
    )


def test_apply_rm_classification_once(otcs):
    # given
    node = folder(otcs, "Records")
    values = {"node_id": node, "class_id": ACCOUNTS}

    # when
    first = run(otcs, "apply_rm_classification", values)
    retry = run(otcs, "apply_rm_classification", values)
    second = run(otcs, "apply_rm_classification", {"node_id": node, "class_id": LEGAL})

    # then
    assert first == {
        "node_id": node,
        "class_id": ACCOUNTS,
        "applied": True,
        "classifications": [ACCOUNTS],
    }
    assert retry == {**first, "applied": False}
    assert second["classifications"] == [ACCOUNTS, LEGAL]


def test_apply_rm_classification_to_an_unknown_node(otcs):
    # when
    with pytest.raises(NodeNotFoundError) as raised:
        run(otcs, "apply_rm_classification", {"node_id": 123, "class_id": ACCOUNTS})

    # then
    assert raised.value.node_id == 123


def test_apply_hold_creates_it_when_asked_and_a_retry_changes_nothing(otcs):
    # given
    node = folder(otcs, "Matter")
    values = {"node_id": node, "hold_name": "Case 7", "create_if_missing": True}

    # when
    first = run(otcs, "apply_hold", values)
    retry = run(otcs, "apply_hold", values)

    # then
    assert first == {
        "node_id": node,
        "hold_id": first["hold_id"],
        "hold_name": "Case 7",
        "hold_created": True,
        "applied": True,
    }
    assert retry == {**first, "hold_created": False, "applied": False}
    assert otcs.client.call("GET", "v1/holds")["results"] == [
        {"HoldID": first["hold_id"], "HoldName": "Case 7", "ActiveHold": 1}
    ]


def test_apply_a_missing_hold_without_creating_it(otcs):
    # given
    node = folder(otcs, "Matter")

    # when
    with pytest.raises(PermanentError) as raised:
        run(otcs, "apply_hold", {"node_id": node, "hold_name": "Nope"})

    # then
    assert str(raised.value) == (
        "Content Server has no hold “Nope”: create it, or turn on “Create the "
        "hold if missing”."
    )


def test_apply_hold_to_an_unknown_node(otcs):
    # when
    with pytest.raises(NodeNotFoundError) as raised:
        run(
            otcs,
            "apply_hold",
            {"node_id": 123, "hold_name": "Case 7", "create_if_missing": True},
        )

    # then
    assert raised.value.node_id == 123
    assert otcs.client.call("GET", "v1/holds")["results"] == []


def test_a_held_node_cannot_be_deleted_until_the_hold_is_removed(otcs):
    # given
    node = folder(otcs, "Matter")
    run(
        otcs,
        "apply_hold",
        {"node_id": node, "hold_name": "Case 7", "create_if_missing": True},
    )

    # when
    refused = delete(otcs, node)
    removed = run(otcs, "remove_hold", {"node_id": node, "hold_name": "Case 7"})
    again = run(otcs, "remove_hold", {"node_id": node, "hold_name": "Case 7"})
    deleted = delete(otcs, node)

    # then
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": f"Node {node} is under hold 'Case 7' and cannot be deleted."},
    )
    assert removed == {"node_id": node, "hold_name": "Case 7", "removed": True}
    assert again == {**removed, "removed": False}
    assert deleted.status_code == 200


def test_remove_an_unknown_hold_or_from_an_unknown_node(otcs):
    # given
    node = folder(otcs, "Matter")

    # when
    unknown_hold = run(otcs, "remove_hold", {"node_id": node, "hold_name": "Nope"})
    with pytest.raises(NodeNotFoundError) as raised:
        run(otcs, "remove_hold", {"node_id": 123, "hold_name": "Nope"})

    # then
    assert unknown_hold == {"node_id": node, "hold_name": "Nope", "removed": False}
    assert raised.value.node_id == 123
