"""Connections through the API: the catalog, create with write-only secrets,
test against the Content Server emulator, update, delete; per role."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from connectors.models import Connection
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db
PASSWORD = "sandbox-admin"  # the emulator's demo login; checked never to leak


def otcs_connection(sandbox: str, password: str = PASSWORD) -> dict:
    return {
        "name": "Content Server",
        "connector": "otcs",
        "description": "Contracts",
        "settings": {"base_url": f"{sandbox}/sandbox/otcs/api/", "username": "admin"},
        "secrets": {"password": password},
    }


def test_the_catalog_lists_every_connector_with_its_schemas(api):
    answer = api["viewer"].get("/api/v1/connectors/")

    assert answer.status_code == 200
    by_key = {c["key"]: c for c in answer.json()}
    assert {"otcs", "dynamics", "exstream", "tradinggrid", "http", "webhook"} <= set(
        by_key
    )
    otcs = by_key["otcs"]
    assert otcs["secret_fields"] == ["password"]
    assert "upload_document" in otcs["actions"]
    assert otcs["config_schema"]["properties"]["base_url"]
    one = api["viewer"].get("/api/v1/connectors/otcs/")
    assert one.json() == otcs
    assert_error(api["viewer"].get("/api/v1/connectors/nope/"), 404, "not_found")
    assert_error(api["anonymous"].get("/api/v1/connectors/"), 401, "not_authenticated")


def test_an_admin_creates_and_tests_a_connection_and_no_secret_comes_back(api, sandbox):
    # when
    made = api["admin"].post(
        "/api/v1/connections/", otcs_connection(sandbox), format="json"
    )

    # then
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["name"] == "Content Server" and body["status"] == "untested"
    assert list(body["secrets_set"]) == ["password"]
    assert "secrets" not in body
    connection = Connection.objects.get()
    assert connection.secrets() == {"password": PASSWORD}

    tested = api["admin"].post(f"/api/v1/connections/{connection.pk}/test/")
    assert tested.status_code == 200
    assert tested.json()["ok"] is True and tested.json()["status"] == "healthy"

    # Nowhere in the API or the audit trail is the password.
    for client in ("admin", "viewer", "auditor"):
        for url in ("/api/v1/connections/", f"/api/v1/connections/{connection.pk}/"):
            answer = api[client].get(url)
            assert answer.status_code == 200
            assert PASSWORD not in answer.content.decode()
    assert PASSWORD not in json.dumps(list(AuditEvent.objects.values("payload")))


def test_wrong_credentials_are_said_in_words(api, sandbox):
    made = api["admin"].post(
        "/api/v1/connections/", otcs_connection(sandbox, "wrong"), format="json"
    )
    tested = api["admin"].post(f"/api/v1/connections/{made.json()['id']}/test/")

    assert tested.status_code == 200
    assert tested.json()["ok"] is False
    assert "refused the user name or password" in tested.json()["message"]
    assert Connection.objects.get().status == "failing"


def test_invalid_settings_name_the_field(api, sandbox):
    data = otcs_connection(sandbox)
    data["settings"] = {"username": "admin"}

    body = assert_error(
        api["admin"].post("/api/v1/connections/", data, format="json"), 400, "invalid"
    )

    assert list(body["fields"]) == ["settings.base_url"]
    assert "base_url" in body["message"]
    assert not Connection.objects.exists()


def test_an_update_without_secrets_keeps_them_and_a_new_one_replaces_it(api, sandbox):
    made = (
        api["admin"]
        .post("/api/v1/connections/", otcs_connection(sandbox), format="json")
        .json()
    )
    url = f"/api/v1/connections/{made['id']}/"

    renamed = api["admin"].patch(url, {"name": "ECM"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "ECM"
    assert Connection.objects.get().secrets() == {"password": PASSWORD}

    api["admin"].patch(
        url, {"secrets": {"password": "rotated-0xC0FFEE"}}, format="json"
    )
    assert Connection.objects.get().secrets() == {"password": "rotated-0xC0FFEE"}
    assert "rotated-0xC0FFEE" not in json.dumps(
        list(AuditEvent.objects.values("payload"))
    )
    changed = api["admin"].patch(url, {"connector": "http"}, format="json")
    assert assert_error(changed, 400, "invalid")["fields"].keys() == {"connector"}


@pytest.mark.parametrize("role", ["viewer", "reviewer", "auditor"])
def test_only_admins_change_connections(api, sandbox, role):
    made = (
        api["admin"]
        .post("/api/v1/connections/", otcs_connection(sandbox), format="json")
        .json()
    )
    url = f"/api/v1/connections/{made['id']}/"
    client = api[role]

    listed = client.get("/api/v1/connections/")
    if role == "reviewer":  # reviewers work tasks; connections are not theirs
        assert_error(listed, 403, "permission_denied")
    else:
        assert [c["name"] for c in listed.json()["results"]] == ["Content Server"]
    assert_error(
        client.post("/api/v1/connections/", otcs_connection(sandbox), format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        client.patch(url, {"name": "x"}, format="json"), 403, "permission_denied"
    )
    assert_error(client.post(f"{url}test/"), 403, "permission_denied")
    assert_error(client.delete(url), 403, "permission_denied")
    assert Connection.objects.get().name == "Content Server"


def test_a_connection_a_flow_uses_cannot_be_deleted(api, sandbox, admin_user):
    from integrations import services

    made = (
        api["admin"]
        .post("/api/v1/connections/", otcs_connection(sandbox), format="json")
        .json()
    )
    services.create_flow(
        "File contracts",
        {
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "key": "node",
                    "type": "action",
                    "connection": made["id"],
                    "action": "get_node",
                    "mapping": [{"target": "node_id", "expression": "2000"}],
                }
            ],
        },
        admin_user,
    )

    refused = api["admin"].delete(f"/api/v1/connections/{made['id']}/")

    body = assert_error(refused, 409, "conflict")
    assert "is used by" in body["message"] and "File contracts" in body["message"]
    assert Connection.objects.count() == 1
