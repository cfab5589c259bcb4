"""Signing in to Content Server: check(), wrong password, ticket renewal."""

from __future__ import annotations

import logging
import time

import pytest
from django.contrib.auth.hashers import make_password

from connectors import registry
from connectors.base import ActionContext
from connectors.errors import AuthError
from connectors.otcs.connector import ContentServerConnector
from connectors.sandbox.models import OtcsTicket, OtcsUser

pytestmark = [
    pytest.mark.urls("tests.connectors.otcs.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "sandbox-admin"
WRONG = "not-the-Pa55word-42"


@pytest.fixture
def base_url(live_server, settings) -> str:
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    return f"{live_server.url}/sandbox/otcs/api/"


def connector(base_url: str, password: str = PASSWORD) -> ContentServerConnector:
    config = ContentServerConnector.Config(
        base_url=base_url, username="admin", password=password
    )
    return ContentServerConnector(config)


def test_the_registry_knows_the_content_server_connector(monkeypatch):
    # given (until registry.BUILTINS lists it)
    monkeypatch.setitem(
        registry.BUILTINS, "otcs", "connectors.otcs.connector:ContentServerConnector"
    )
    registry.reset()

    # when
    found = registry.get_connector("otcs")
    registry.reset()

    # then
    assert found is ContentServerConnector
    assert (found.label, found.category, found.icon) == (
        "OpenText Content Server",
        "ecm",
        "building",
    )
    assert found.Config.secret_fields() == ("password",)
    assert sorted(found.actions) == [
        "add_version",
        "apply_categories",
        "apply_hold",
        "apply_rm_classification",
        "download",
        "find_or_create_workspace",
        "get_node",
        "link_workspace_reference",
        "relate_workspaces",
        "remove_hold",
        "search",
        "start_workflow",
        "upload_document",
        "workflow_status",
    ]
    assert list(found.triggers) == ["new_or_changed_documents"]


def test_check_signs_in_and_reads_the_enterprise_workspace(base_url, live_server):
    # when
    result = connector(base_url).check()

    # then
    host = live_server.url.split("//")[1].split(":")[0]
    assert result.message == (
        f"Signed in to {host} as admin; Enterprise Workspace reachable"
    )


def test_a_wrong_password_is_an_auth_error_without_the_password(base_url, caplog):
    # given
    caplog.set_level(logging.DEBUG)

    # when
    with pytest.raises(AuthError) as raised:
        connector(base_url, WRONG).check()

    # then
    assert raised.value.message == (
        "Content Server refused the user name or password: check the "
        "connection's credentials."
    )
    assert WRONG not in f"{raised.value.message} {raised.value.detail}"
    assert WRONG not in caplog.text


def test_an_expired_ticket_is_renewed_once(base_url, settings):
    # given a connector that has signed in, and a ticket that lives 1 second
    settings.XCONNECTOR_SANDBOX_OTCS_TICKET_SECONDS = 1
    otcs = connector(base_url)
    context = ActionContext(idempotency_key="check-1")
    otcs.run_action("get_node", {"node_id": 2000}, context)
    assert otcs.client.auth_count == 1

    # when the ticket has expired
    time.sleep(2.2)
    output, _ = otcs.run_action("get_node", {"node_id": 2000}, context)

    # then
    assert output["id"] == 2000
    assert otcs.client.auth_count == 2


def test_a_refused_renewal_is_an_auth_error_after_one_attempt(base_url, caplog):
    # given a signed-in connector whose password was changed meanwhile
    otcs = connector(base_url)
    otcs.client.authenticate()
    OtcsUser.objects.filter(name="admin").update(password=make_password(WRONG))
    OtcsTicket.objects.all().delete()  # the ticket has expired

    # when
    with pytest.raises(AuthError) as raised:
        otcs.run_action("get_node", {"node_id": 2000}, ActionContext())

    # then
    assert raised.value.message.startswith(
        "Content Server refused the user name or password"
    )
    assert otcs.client.auth_count == 2
    assert PASSWORD not in caplog.text
