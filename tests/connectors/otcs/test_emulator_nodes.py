"""The emulated Content Server: reading, browsing, creating, moving nodes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")


class Otcs:
    """A signed-in caller of the emulator."""

    def __init__(self, api: str) -> None:
        self.api = api
        answer = requests.post(
            f"{api}/v1/auth",
            data={"username": "admin", "password": "sandbox-admin"},
            timeout=10,
        )
        self.headers = {"OTCSTicket": answer.json()["ticket"]}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.api}/{path}", headers=self.headers, timeout=10, **kwargs
        )

    def folder(self, name: str, parent: int = 2000) -> int:
        body = {"type": 0, "parent_id": parent, "name": name}
        answer = self.call("POST", "v2/nodes", data={"body": json.dumps(body)})
        assert answer.status_code == 200, answer.text
        return answer.json()["results"]["data"]["properties"]["id"]

    def document(self, name: str, content: bytes, parent: int = 2000) -> int:
        body = {"type": 144, "parent_id": parent, "name": name}
        answer = self.call(
            "POST",
            "v2/nodes",
            data={"body": json.dumps(body)},
            files={"file": (name, content, "text/plain")},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["results"]["data"]["properties"]["id"]


@pytest.fixture
def otcs(live_server, settings, tmp_path) -> Otcs:
    settings.VAR_DIR = tmp_path
    return Otcs(f"{live_server.url}/sandbox/otcs/api")


def names(answer: requests.Response) -> list[str]:
    return [r["data"]["properties"]["name"] for r in answer.json()["results"]]


def test_the_enterprise_workspace_is_there(otcs):
    # when
    answer = otcs.call("GET", "v2/nodes/2000", params={"fields": "properties"})

    # then
    assert answer.status_code == 200
    node = answer.json()["results"]["data"]["properties"]
    assert (node["id"], node["type"], node["name"], node["container"]) == (
        2000,
        141,
        "Enterprise Workspace",
        True,
    )
    assert answer.json()["links"]["data"]["self"]["href"].startswith(
        "/sandbox/otcs/api/v2/nodes/2000"
    )


def test_an_unknown_node_is_a_400(otcs):
    # when
    answers = [otcs.call("GET", "v2/nodes/123"), otcs.call("GET", "v1/nodes/123")]

    # then
    assert [a.status_code for a in answers] == [400, 400]
    assert [a.json() for a in answers] == [
        {"error": "Could not get a node for 123"}
    ] * 2


def test_creating_a_folder_in_v2_and_v1(otcs):
    # when
    v2 = otcs.call(
        "POST",
        "v2/nodes",
        data={"body": json.dumps({"type": 0, "parent_id": 2000, "name": "Invoices"})},
    )
    v1 = otcs.call(
        "POST", "v1/nodes", data={"type": 0, "parent_id": 2000, "name": "Orders"}
    )

    # then
    created = v2.json()["results"]["data"]["properties"]
    assert (created["name"], created["type"], created["parent_id"]) == (
        "Invoices",
        0,
        2000,
    )
    assert created["id"] >= 100000
    assert created["create_user_id"] == 1000
    assert v1.json() == {"id": created["id"] + 1}
    assert v2.headers["OTCSTicket"] == otcs.headers["OTCSTicket"]


def test_a_raw_json_body_creates_a_folder_too(otcs):
    # when
    answer = otcs.call(
        "POST", "v2/nodes", json={"type": 0, "parent_id": 2000, "name": "J"}
    )

    # then
    assert answer.status_code == 200
    assert answer.json()["results"]["data"]["properties"]["name"] == "J"


def test_a_duplicate_name_in_a_folder_is_a_500(otcs):
    # given
    otcs.folder("Invoices")

    # when
    answer = otcs.call(
        "POST", "v2/nodes", data={"type": 0, "parent_id": 2000, "name": "Invoices"}
    )

    # then
    assert answer.status_code == 500
    assert "already exists" in answer.json()["error"]


def test_creating_under_an_unknown_parent_is_a_400(otcs):
    # when
    answer = otcs.call(
        "POST", "v2/nodes", data={"type": 0, "parent_id": 99, "name": "X"}
    )

    # then
    assert answer.status_code == 400
    assert answer.json() == {"error": "Could not get a node for 99"}


def test_browsing_pages_and_sorts_children(otcs):
    # given
    parent = otcs.folder("Box")
    for name in ["c", "a", "e", "b", "d"]:
        otcs.folder(name, parent)

    # when
    first = otcs.call("GET", f"v2/nodes/{parent}/nodes", params={"page": 1, "limit": 2})
    last = otcs.call(
        "GET",
        f"v2/nodes/{parent}/nodes",
        params={"page": 3, "limit": 2, "sort": "asc_name"},
    )
    reverse = otcs.call("GET", f"v2/nodes/{parent}/nodes", params={"sort": "desc_name"})

    # then
    assert names(first) == ["a", "b"]
    assert first.json()["collection"]["paging"] == {
        "limit": 2,
        "page": 1,
        "page_total": 3,
        "range_min": 1,
        "range_max": 2,
        "total_count": 5,
    }
    assert names(last) == ["e"]
    assert last.json()["collection"]["paging"]["range_min"] == 5
    assert names(reverse) == ["e", "d", "c", "b", "a"]


def test_browsing_sorts_by_modify_date(otcs):
    # given
    parent = otcs.folder("Box")
    for name in ["old", "new"]:
        otcs.folder(name, parent)
    otcs.call("PUT", f"v2/nodes/{parent + 1}", data={"description": "touched"})

    # when
    answer = otcs.call(
        "GET", f"v2/nodes/{parent}/nodes", params={"sort": "desc_modify_date"}
    )

    # then
    assert names(answer) == ["old", "new"]


def test_browsing_filters_by_type_and_name(otcs):
    # given
    parent = otcs.folder("Box")
    otcs.folder("Invoice folder", parent)
    otcs.document("invoice-1.txt", b"1", parent)
    otcs.document("order-1.txt", b"2", parent)

    # when
    documents = otcs.call("GET", f"v2/nodes/{parent}/nodes", params={"where_type": 144})
    invoices = otcs.call(
        "GET", f"v2/nodes/{parent}/nodes", params={"where_name": "INVOICE"}
    )

    # then
    assert names(documents) == ["invoice-1.txt", "order-1.txt"]
    assert names(invoices) == ["Invoice folder", "invoice-1.txt"]


def test_renaming_and_moving_a_node(otcs):
    # given
    source = otcs.folder("Source")
    target = otcs.folder("Target")
    node = otcs.folder("Draft", source)

    # when
    answer = otcs.call(
        "PUT",
        f"v2/nodes/{node}",
        data={"body": json.dumps({"name": "Final", "parent_id": target})},
    )

    # then
    moved = answer.json()["results"]["data"]["properties"]
    assert (moved["name"], moved["parent_id"]) == ("Final", target)
    assert names(otcs.call("GET", f"v2/nodes/{source}/nodes")) == []


def test_renaming_onto_an_existing_name_is_a_500(otcs):
    # given
    otcs.folder("Taken")
    node = otcs.folder("Free")

    # when
    answer = otcs.call("PUT", f"v2/nodes/{node}", data={"name": "Taken"})

    # then
    assert answer.status_code == 500
    assert "already exists" in answer.json()["error"]


def test_deleting_a_folder_deletes_its_contents(otcs):
    # given
    folder = otcs.folder("Old")
    document = otcs.document("a.txt", b"abc", folder)

    # when
    answer = otcs.call("DELETE", f"v1/nodes/{folder}")

    # then
    assert answer.status_code == 200
    assert otcs.call("GET", f"v2/nodes/{document}").status_code == 400
    assert otcs.call("GET", f"v2/nodes/{folder}").status_code == 400


def test_a_multipart_put_and_the_v1_node_shape(otcs):
    # given
    node = otcs.folder("Draft")

    # when: a multipart body part, as clients that always send multipart do
    answer = otcs.call(
        "PUT",
        f"v2/nodes/{node}",
        files={"body": (None, json.dumps({"name": "Final", "description": "ok"}))},
    )
    v1 = otcs.call("GET", f"v1/nodes/{node}")

    # then
    assert answer.status_code == 200
    assert (v1.json()["type"], v1.json()["type_name"]) == (0, "Folder")
    data = v1.json()["data"]
    assert (data["id"], data["name"], data["description"]) == (node, "Final", "ok")
