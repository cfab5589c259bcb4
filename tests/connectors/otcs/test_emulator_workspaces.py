"""The emulated Content Server: business workspaces, as pyxecm calls them."""

from __future__ import annotations

import json

import pytest

from tests.connectors.otcs.test_emulator_nodes import Otcs

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")

CUSTOMER_TYPE, CUSTOMER_TEMPLATE = 16, 2101
ORDER_TYPE, ORDER_TEMPLATE = 17, 2104


@pytest.fixture
def otcs(live_server, settings, tmp_path) -> Otcs:
    settings.VAR_DIR = tmp_path
    return Otcs(f"{live_server.url}/sandbox/otcs/api")


def create(otcs: Otcs, **fields) -> int:
    body = {"template_id": CUSTOMER_TEMPLATE, "wksp_type_id": CUSTOMER_TYPE, **fields}
    answer = otcs.call("POST", "v2/businessworkspaces", data={"body": json.dumps(body)})
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]["id"]


def test_workspace_types_with_templates_filtered_by_business_object(otcs):
    # when
    answer = otcs.call(
        "GET",
        "v2/businessworkspacetypes",
        params={
            "expand_templates": "True",
            "ext_system_id": "D365",
            "bo_type": "account",
        },
    )

    # then
    assert answer.status_code == 200
    assert [r["data"]["properties"] for r in answer.json()["results"]] == [
        {
            "wksp_type_id": 16,
            "wksp_type_name": "Customer",
            "rm_enabled": True,
            "templates": [{"id": 2101, "name": "Customer", "subtype": 848}],
        }
    ]


def test_workspace_types_v1_and_by_id(otcs):
    # when
    listed = otcs.call("GET", "v1/nodes/2000/businessworkspacetypes")
    one = otcs.call("GET", "v1/businessworkspacetypes/17")
    unknown = otcs.call("GET", "v1/businessworkspacetypes/99")

    # then
    assert listed.json()["businessworkspacetypes"] == [
        {
            "id": 16,
            "name": "Customer",
            "rm_enabled": True,
            "templates": [{"id": 2101, "name": "Customer", "subType": 848}],
        },
        {
            "id": 17,
            "name": "Sales order",
            "rm_enabled": True,
            "templates": [{"id": 2104, "name": "Sales order", "subType": 848}],
        },
        {
            "id": 18,
            "name": "Supplier",
            "rm_enabled": True,
            "templates": [{"id": 2105, "name": "Supplier", "subType": 848}],
        },
        {
            "id": 19,
            "name": "Contract",
            "rm_enabled": True,
            "templates": [{"id": 2108, "name": "Contract", "subType": 848}],
        },
        {
            "id": 20,
            "name": "Case",
            "rm_enabled": True,
            "templates": [{"id": 2111, "name": "Case", "subType": 848}],
        },
    ]
    assert one.json() == {
        "icon_url": "",
        "is_policies_enabled": False,
        "workspace_type": "Sales order",
    }
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"error": "Could not get a workspace type for 99"},
    )


def test_create_copies_the_template_and_links_the_business_object(otcs):
    # when
    answer = otcs.call(
        "POST",
        "v2/businessworkspaces",
        data={
            "body": json.dumps(
                {
                    "template_id": 2101,
                    "wksp_type_id": 16,
                    "parent_id": 2000,
                    "name": "Contoso",
                    "description": "A customer",
                    "ext_system_id": "D365",
                    "bo_type": "account",
                    "bo_id": "A-1",
                    "roles": {"categories": {"9831": {"9831_2": "d365"}}},
                }
            )
        },
    )

    # then
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert results == {"id": results["id"], "direct_open": True, "sub_folder_id": 0}
    node = otcs.call("GET", f"v2/nodes/{results['id']}").json()["results"]["data"]
    assert (node["properties"]["type"], node["properties"]["name"]) == (848, "Contoso")
    children = otcs.call("GET", f"v2/nodes/{results['id']}/nodes").json()["results"]
    assert sorted(c["data"]["properties"]["name"] for c in children) == [
        "Contracts",
        "Correspondence",
    ]
    values = otcs.call("GET", f"v2/nodes/{results['id']}/categories").json()
    assert values["results"][0]["data"]["categories"]["9831_2"] == "d365"


def test_a_second_workspace_for_the_same_business_object_is_a_500(otcs):
    # given
    first = create(otcs, name="One", ext_system_id="D365", bo_type="account", bo_id="A")

    # when
    answer = otcs.call(
        "POST",
        "v2/businessworkspaces",
        data={
            "body": json.dumps(
                {
                    "template_id": 2101,
                    "name": "Two",
                    "ext_system_id": "D365",
                    "bo_type": "account",
                    "bo_id": "A",
                }
            )
        },
    )

    # then
    assert (answer.status_code, answer.json()) == (
        500,
        {
            "error": "The business object D365/account/A is already linked to "
            f"business workspace {first}."
        },
    )
    assert (
        otcs.call("GET", "v2/nodes/2000/nodes").json()["results"][0]["data"][
            "properties"
        ]["name"]
        == "One"
    )


def test_create_with_an_unknown_template_is_a_400(otcs):
    # when
    answer = otcs.call(
        "POST", "v2/businessworkspaces", data={"body": json.dumps({"template_id": 5})}
    )

    # then
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "Could not get a workspace template for 5"},
    )


def test_find_by_business_object_both_ways(otcs):
    # given
    found = create(
        otcs, name="Contoso", ext_system_id="D365", bo_type="account", bo_id="A-1"
    )
    create(otcs, name="Fabrikam", ext_system_id="D365", bo_type="account", bo_id="A-2")

    # when
    listed = otcs.call(
        "GET",
        "v2/businessworkspaces",
        params={
            "where_ext_system_id": "D365",
            "where_bo_type": "account",
            "where_bo_id": "A-1",
            "expanded_view": "true",
        },
    )
    direct = otcs.call("GET", "v2/externalsystems/D365/botypes/account/boids/A-1")
    missing = otcs.call("GET", "v2/externalsystems/D365/botypes/account/boids/Z")

    # then
    for answer in (listed, direct):
        body = answer.json()
        assert body["paging"] == {
            "limit": 25,
            "page": 1,
            "page_total": 1,
            "range_min": 1,
            "range_max": 1,
            "total_count": 1,
        }
        props = body["results"][0]["data"]["properties"]
        assert (props["id"], props["type"], props["wnf_wksp_type_id"]) == (
            found,
            848,
            16,
        )
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "No business workspace for D365/account/Z."},
    )


def test_get_workspace_and_a_node_that_is_not_one(otcs):
    # given
    found = create(otcs, name="Contoso")
    folder = otcs.folder("Plain")

    # when
    answer = otcs.call("GET", f"v2/businessworkspaces/{found}")
    plain = otcs.call("GET", f"v2/businessworkspaces/{folder}")
    unknown = otcs.call("GET", "v2/businessworkspaces/123")

    # then
    results = answer.json()["results"]
    assert results["data"]["properties"]["name"] == "Contoso"
    assert results["business_properties"] == {
        "workspace_type_id": 16,
        "workspace_type_name": "Customer",
    }
    assert (plain.status_code, plain.json()) == (
        400,
        {"error": f"Node {folder} is not a business workspace."},
    )
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"error": "Could not get a node for 123"},
    )


def test_link_a_business_object_to_an_existing_workspace(otcs):
    # given
    found = create(otcs, name="Contoso")
    other = create(
        otcs, name="Other", ext_system_id="D365", bo_type="account", bo_id="B"
    )
    link = {"ext_system_id": "D365", "bo_type": "account", "bo_id": "A-9"}

    # when
    linked = otcs.call(
        "PUT", f"v2/businessworkspaces/{found}/workspacereferences", data=link
    )
    again = otcs.call(
        "PUT", f"v2/businessworkspaces/{found}/workspacereferences", data=link
    )
    taken = otcs.call(
        "PUT",
        f"v2/businessworkspaces/{found}/workspacereferences",
        data={**link, "bo_id": "B"},
    )
    partial = otcs.call(
        "PUT",
        f"v2/businessworkspaces/{found}/workspacereferences",
        data={"ext_system_id": "D365"},
    )

    # then
    assert (linked.status_code, again.status_code) == (200, 200)
    direct = otcs.call("GET", "v2/externalsystems/D365/botypes/account/boids/A-9")
    assert direct.json()["results"][0]["data"]["properties"]["id"] == found
    assert (taken.status_code, taken.json()) == (
        500,
        {
            "error": "The business object D365/account/B is already linked to "
            f"business workspace {other}."
        },
    )
    assert (partial.status_code, partial.json()) == (
        400,
        {"error": "Argument bo_type is required."},
    )


def test_relate_list_both_directions_and_delete(otcs):
    # given
    customer = create(otcs, name="Contoso")
    order = create(
        otcs, name="SO-1", template_id=ORDER_TEMPLATE, wksp_type_id=ORDER_TYPE
    )

    # when
    added = otcs.call(
        "POST",
        f"v2/businessworkspaces/{customer}/relateditems",
        data={"rel_bw_id": str(order), "rel_type": "child"},
    )
    children = otcs.call(
        "GET",
        f"v2/businessworkspaces/{customer}/relateditems",
        params={"where_relationtype": "child"},
    )
    parents = otcs.call("GET", f"v2/businessworkspaces/{order}/relateditems")
    deleted = otcs.call(
        "DELETE",
        f"v2/businessworkspaces/{customer}/relateditems/{order}?rel_type=child",
    )
    again = otcs.call(
        "DELETE",
        f"v2/businessworkspaces/{customer}/relateditems/{order}?rel_type=child",
    )

    # then
    assert added.status_code == 200
    props = children.json()["results"][0]["data"]["properties"]
    assert (props["id"], props["rel_type"]) == (order, "child")
    props = parents.json()["results"][0]["data"]["properties"]
    assert (props["id"], props["rel_type"]) == (customer, "parent")
    assert deleted.status_code == 200
    assert (
        otcs.call("GET", f"v2/businessworkspaces/{order}/relateditems").json()[
            "results"
        ]
        == []
    )
    assert (again.status_code, again.json()) == (
        400,
        {"error": f"Workspace {order} is not related as child."},
    )


def test_relating_to_itself_or_a_bad_type_is_a_400(otcs):
    # given
    found = create(otcs, name="Contoso")

    # when
    itself = otcs.call(
        "POST", f"v2/businessworkspaces/{found}/relateditems", data={"rel_bw_id": found}
    )
    bad = otcs.call(
        "POST",
        f"v2/businessworkspaces/{found}/relateditems",
        data={"rel_bw_id": found, "rel_type": "sibling"},
    )

    # then
    assert (itself.status_code, itself.json()) == (
        400,
        {"error": "A workspace cannot be related to itself."},
    )
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": "Invalid value for parameter rel_type."},
    )


def test_the_workspace_containing_a_node(otcs):
    # given
    found = create(
        otcs, name="Contoso", ext_system_id="D365", bo_type="account", bo_id="A"
    )
    contracts = next(
        c["data"]["properties"]["id"]
        for c in otcs.call("GET", f"v2/nodes/{found}/nodes").json()["results"]
        if c["data"]["properties"]["name"] == "Contracts"
    )
    document = otcs.document("c.txt", b"x", parent=contracts)
    outside = otcs.folder("Outside")

    # when
    inside = otcs.call("GET", f"v1/nodes/{document}/businessworkspace")
    itself = otcs.call("GET", f"v1/nodes/{found}/businessworkspace")
    none = otcs.call("GET", f"v1/nodes/{outside}/businessworkspace")

    # then
    expected = {"id": found, "isLinked": True, "type": 848, "workspace_type_id": 16}
    assert inside.json() == expected
    assert itself.json() == expected
    assert (none.status_code, none.json()) == (
        404,
        {"error": f"Node {outside} is not in a business workspace."},
    )
