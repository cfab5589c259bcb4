"""Business workspace actions against the emulated Content Server."""

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

CONTOSO = {"ext_system_id": "D365", "bo_type": "account", "bo_id": "A-1"}


def children(otcs: ContentServerConnector, node_id: int) -> list[str]:
    return sorted(c["name"] for c in otcs.client.children(node_id))


def test_find_or_create_creates_once_and_a_retry_finds_it(otcs):
    # given
    values = {
        **CONTOSO,
        "name": "Contoso",
        "parent_id": 2000,
        "categories": {"9831_2": "d365"},
    }

    # when
    first = run(otcs, "find_or_create_workspace", values)
    retry = run(otcs, "find_or_create_workspace", values)

    # then
    assert first == {
        "workspace_id": first["workspace_id"],
        "created": True,
        "name": "Contoso",
        "workspace_type_id": 16,
    }
    assert retry == {**first, "created": False}
    assert children(otcs, 2000) == ["Contoso"]
    assert children(otcs, first["workspace_id"]) == ["Contracts", "Correspondence"]
    assert otcs.client.categories(first["workspace_id"])["9831_2"] == "d365"


def test_find_or_create_by_type_name_and_an_unknown_type(otcs):
    # when
    order = run(
        otcs,
        "find_or_create_workspace",
        {
            **CONTOSO,
            "bo_type": "salesorder",
            "name": "SO-1",
            "workspace_type": "sales order",
        },
    )
    with pytest.raises(PermanentError) as raised:
        run(
            otcs,
            "find_or_create_workspace",
            {**CONTOSO, "name": "X", "workspace_type": "Vendor"},
        )

    # then
    assert (order["created"], order["workspace_type_id"]) == (True, 17)
    assert str(raised.value) == (
        "Content Server has no business workspace type “Vendor”: check the "
        "workspace type (id or name) or the business object type."
    )


def test_find_or_create_under_an_unknown_parent(otcs):
    # when
    with pytest.raises(NodeNotFoundError) as raised:
        run(
            otcs,
            "find_or_create_workspace",
            {**CONTOSO, "name": "Contoso", "parent_id": 123},
        )

    # then
    assert raised.value.node_id == 123


def test_link_a_second_business_object_twice(otcs):
    # given
    workspace = run(otcs, "find_or_create_workspace", {**CONTOSO, "name": "Contoso"})
    values = {
        "workspace_id": workspace["workspace_id"],
        "ext_system_id": "SAP",
        "bo_type": "KNA1",
        "bo_id": "4711",
    }

    # when
    first = run(otcs, "link_workspace_reference", values)
    retry = run(otcs, "link_workspace_reference", values)
    found = run(
        otcs,
        "find_or_create_workspace",
        {"ext_system_id": "SAP", "bo_type": "KNA1", "bo_id": "4711", "name": "Other"},
    )

    # then
    assert first == retry == values
    assert (found["workspace_id"], found["created"]) == (
        workspace["workspace_id"],
        False,
    )


def test_link_to_an_unknown_workspace(otcs):
    # when
    with pytest.raises(NodeNotFoundError) as raised:
        run(
            otcs,
            "link_workspace_reference",
            {"workspace_id": 123, "ext_system_id": "SAP", "bo_type": "T", "bo_id": "1"},
        )

    # then
    assert raised.value.node_id == 123


def test_relate_workspaces_once(otcs):
    # given
    customer = run(otcs, "find_or_create_workspace", {**CONTOSO, "name": "Contoso"})
    order = run(
        otcs,
        "find_or_create_workspace",
        {**CONTOSO, "bo_type": "salesorder", "bo_id": "SO-1", "name": "SO-1"},
    )
    values = {
        "workspace_id": customer["workspace_id"],
        "related_workspace_id": order["workspace_id"],
        "rel_type": "child",
    }

    # when
    first = run(otcs, "relate_workspaces", values)
    retry = run(otcs, "relate_workspaces", values)

    # then
    assert first == {**values, "created": True}
    assert retry == {**values, "created": False}
    api = otcs.config.base_url
    answer = requests.get(
        f"{api}v2/businessworkspaces/{order['workspace_id']}/relateditems",
        headers={"OTCSTicket": otcs.client.authenticate()},
        timeout=10,
    )
    [parent] = answer.json()["results"]
    assert (
        parent["data"]["properties"]["id"],
        parent["data"]["properties"]["rel_type"],
    ) == (
        customer["workspace_id"],
        "parent",
    )


def test_relate_to_an_unknown_workspace(otcs):
    # given
    customer = run(otcs, "find_or_create_workspace", {**CONTOSO, "name": "Contoso"})

    # when
    with pytest.raises(NodeNotFoundError) as raised:
        run(
            otcs,
            "relate_workspaces",
            {"workspace_id": customer["workspace_id"], "related_workspace_id": 123},
        )

    # then
    assert raised.value.node_id == 123
