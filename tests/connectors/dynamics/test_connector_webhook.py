"""Dataverse webhooks: the emulator posts, the connector's trigger receives."""

from __future__ import annotations

import json
import time

import pytest

from connectors.base import InboundRequest
from connectors.errors import AuthError, PermanentError
from tests.connectors.dynamics.conftest import CONTOSO, Caught, register_webhook

SUSANNA = "cccccccc-0000-4000-8000-000000000002"

pytestmark = [
    pytest.mark.urls("tests.connectors.dynamics.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def inbound(caught: Caught, body: bytes | None = None) -> InboundRequest:
    return InboundRequest(
        method="POST",
        path=caught.path,
        headers=caught.headers,
        query=caught.query,
        body=caught.body if body is None else body,
    )


def with_key(dynamics, key: str = "hook-key", **settings) -> None:
    """Give the connection a webhook key (and other webhook settings)."""
    data = {**dynamics.config.model_dump(), "webhook_key": key, **settings}
    dynamics.config = type(dynamics.config).model_validate(data)


def test_a_created_account_arrives_as_a_clean_record(dynamics, api, web, catcher):
    # given a webhook for created accounts, keyed with ?code=
    register_webhook(web, api, catcher.url, authvalue="hook-key")
    with_key(dynamics)

    # when an account is created and the post is received
    web.post(
        f"{api}accounts",
        json={
            "name": "Hooked Ltd",
            "revenue": 1500.5,
            "primarycontactid@odata.bind": f"/contacts({SUSANNA})",
        },
        timeout=10,
    ).raise_for_status()
    caught = catcher.next()
    events = dynamics.receive("receive", {}, inbound(caught))

    # then
    body = caught.json()
    assert caught.query == {"code": "hook-key"}
    assert caught.headers["x-ms-dynamics-request-name"] == "Create"
    assert caught.headers["x-ms-dynamics-entity-name"] == "account"
    assert len(events) == 1
    payload = events[0].payload
    assert events[0].event_id == f"dataverse:{body['RequestId']}"
    assert payload["message"] == "Create"
    assert payload["entity"] == "account"
    assert payload["id"] == body["PrimaryEntityId"]
    assert payload["correlation_id"] == body["CorrelationId"]
    assert payload["attributes"]["name"] == "Hooked Ltd"
    assert payload["attributes"]["revenue"] == 1500.5
    assert payload["attributes"]["statecode"] == 0
    assert payload["attributes"]["primarycontactid"] == {
        "id": SUSANNA,
        "logical_name": "contact",
        "name": None,
    }
    assert events[0].occurred_at is not None


def test_an_update_posts_only_the_changed_columns_with_a_header_key(
    dynamics, api, web, catcher
):
    # given
    register_webhook(
        web,
        api,
        catcher.url,
        authtype=5,
        authvalue='<settings><setting name="x-hook" value="s3cret"/></settings>',
        message="Update",
    )
    with_key(dynamics, "s3cret", webhook_auth="HttpHeader", webhook_key_name="x-hook")

    # when
    web.patch(
        f"{api}accounts({CONTOSO})", json={"telephone1": "+1 555 0199"}, timeout=10
    )
    caught = catcher.next()
    events = dynamics.receive("receive", {"messages": ["Update"]}, inbound(caught))

    # then
    assert caught.headers["x-hook"] == "s3cret"
    assert events[0].payload["id"] == CONTOSO
    assert events[0].payload["attributes"] == {
        "telephone1": "+1 555 0199",
        "accountid": CONTOSO,
    }


def test_a_wrong_key_is_refused(dynamics, api, web, catcher):
    # given
    register_webhook(web, api, catcher.url, authvalue="other-key")
    with_key(dynamics)
    web.post(f"{api}accounts", json={"name": "X"}, timeout=10)
    caught = catcher.next()

    # when
    with pytest.raises(AuthError) as raised:
        dynamics.receive("receive", {}, inbound(caught))

    # then
    assert raised.value.message == (
        "The webhook request did not carry this connection's webhook key: check "
        "the authvalue of the Dataverse service endpoint."
    )


def test_a_context_without_a_target_is_a_permanent_error(dynamics):
    # given
    with_key(dynamics)
    body = json.dumps(
        {
            "MessageName": "Associate",
            "PrimaryEntityName": "account",
            "InputParameters": [],
            "RequestId": "r-1",
        }
    ).encode()
    request = InboundRequest("POST", "/hooks/1/", {}, {"code": "hook-key"}, body)

    # when
    with pytest.raises(PermanentError) as raised:
        dynamics.receive("receive", {}, request)

    # then
    assert raised.value.message == (
        "The Dynamics 365 notification for “Associate” on “account” has no "
        "Target, so there is no record to pass on. Register the step for the "
        "Create, Update or Delete message of a table."
    )


def test_a_malformed_body_is_a_permanent_error(dynamics):
    # given
    with_key(dynamics)
    request = InboundRequest("POST", "/hooks/1/", {}, {"code": "hook-key"}, b"{oops")

    # when
    with pytest.raises(PermanentError) as raised:
        dynamics.receive("receive", {}, request)

    # then
    assert raised.value.message == (
        "The Dynamics 365 notification is not valid JSON, so it cannot be read."
    )


def test_a_delete_arrives_with_the_record_reference_and_a_query_key(
    dynamics, api, web, catcher
):
    # given a webhook for deleted accounts, keyed by a query parameter
    register_webhook(
        web,
        api,
        catcher.url,
        authtype=6,
        authvalue='<settings><setting name="token" value="q-key"/></settings>',
        message="Delete",
    )
    with_key(
        dynamics, "q-key", webhook_auth="HttpQueryString", webhook_key_name="token"
    )

    # when
    web.delete(f"{api}accounts({CONTOSO})", timeout=10).raise_for_status()
    caught = catcher.next()
    events = dynamics.receive("receive", {}, inbound(caught))

    # then
    assert caught.query == {"token": "q-key"}
    assert events[0].payload["message"] == "Delete"
    assert events[0].payload["entity"] == "account"
    assert events[0].payload["id"] == CONTOSO
    assert events[0].payload["attributes"] == {}


def test_without_a_request_id_the_event_id_joins_correlation_and_operation(
    dynamics,
):
    # given
    with_key(dynamics)
    body = {
        "MessageName": "Update",
        "PrimaryEntityName": "account",
        "CorrelationId": "c-1",
        "OperationId": "o-1",
        "OperationCreatedOn": "/Date(1712345678000)/",
        "InputParameters": [
            {
                "key": "Target",
                "value": {
                    "__type": "Entity:http://schemas.microsoft.com/xrm/2011/Contracts",
                    "LogicalName": "account",
                    "Id": CONTOSO,
                    "Attributes": [
                        {
                            "key": "statuscode",
                            "value": {
                                "__type": "OptionSetValue:http://schemas."
                                "microsoft.com/xrm/2011/Contracts",
                                "Value": 2,
                            },
                        }
                    ],
                },
            }
        ],
    }
    request = InboundRequest(
        "POST", "/hooks/1/", {}, {"code": "hook-key"}, json.dumps(body).encode()
    )

    # when
    events = dynamics.receive("receive", {"entities": ["account"]}, request)
    others = dynamics.receive("receive", {"entities": ["contact"]}, request)

    # then
    assert events[0].event_id == "dataverse:c-1:o-1"
    assert events[0].payload["attributes"] == {"statuscode": 2}
    assert events[0].payload["occurred_at"] == "2024-04-05T19:34:38Z"
    assert others == []


def test_a_failed_delivery_is_logged(dynamics, api, web, caplog):
    # given a webhook to an address where nobody listens
    register_webhook(web, api, "http://127.0.0.1:9/hook")
    caplog.set_level("WARNING", logger="connectors.dynamics.emulator.webhooks")

    # when
    web.post(f"{api}accounts", json={"name": "Unheard"}, timeout=10)

    # then
    for _ in range(50):
        if caplog.records:
            break
        time.sleep(0.1)
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("Dataverse emulator: webhook to http://127.0.0.1:9/hook failed:")
    )
