"""Webhooks: the emulator posts a ``RemoteExecutionContext`` to every
``serviceendpoint`` (contract 8) that a ``sdkmessageprocessingstep`` ties to
the message and table of a change.

The post happens after the transaction commits, in a background thread,
with a short timeout; failures are logged, as Dataverse would record a
failed system job. The field order of the context is [I].
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree

import requests  # the emulator plays Dataverse, not a connector: no HttpClient
from django.db import transaction

from connectors.dynamics.emulator import state, tables
from connectors.dynamics.sandbox.models import DvRecord

logger = logging.getLogger(__name__)
CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts"
WEBHOOK_CONTRACT = 8
DELIVERY_TIMEOUT = 5.0
ORGANIZATION = "sandbox"


def announce(
    message: str,
    table: tables.Table,
    row: DvRecord,
    attributes: dict[str, Any],
) -> None:
    """Queue the posts for ``message`` on ``row`` once the change commits."""
    if not table.webhooks:
        return
    deliveries = [
        (endpoint, step, _context(message, table, row, attributes, step))
        for endpoint, step in _subscribers(message, table)
    ]
    for endpoint, step, context in deliveries:
        transaction.on_commit(
            lambda e=endpoint, c=context, s=step: threading.Thread(
                target=_post, args=(e, c, s), daemon=True
            ).start()
        )


def _subscribers(
    message: str, table: tables.Table
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    message_id = tables.message_id(message)
    filter_id = tables.filter_id(message, table.logical_name)
    found = []
    for step in state.live_rows("sdkmessageprocessingsteps"):
        data = {**step.data, "sdkmessageprocessingstepid": str(step.record_id)}
        if data.get("statecode", 0) != 0:
            continue
        if data.get("_sdkmessageid_value") not in (message_id, None):
            continue
        if data.get("_sdkmessagefilterid_value") not in (filter_id, None):
            continue
        endpoint = state.find("serviceendpoints", data.get("_eventhandler_value") or "")
        if endpoint is None or endpoint.data.get("contract") != WEBHOOK_CONTRACT:
            continue
        found.append((endpoint.data, data))
    return found


def _value(name: str, value: Any, table: tables.Table) -> Any:
    """A Web API column as the SDK's JSON serializer writes it."""
    lookup = next((lk for lk in table.lookups.values() if lk.column == name), None)
    if lookup is not None and value:
        target = tables.TABLES.get(lookup.target)
        return {
            "__type": f"EntityReference:{CONTRACTS}",
            "Id": value,
            "KeyAttributes": [],
            "LogicalName": target.logical_name if target else lookup.target,
            "Name": None,
            "RowVersion": None,
        }
    if name in tables.OPTION_SETS and value is not None:
        return {"__type": f"OptionSetValue:{CONTRACTS}", "Value": value}
    if name in tables.MONEY and value is not None:
        return {"__type": f"Money:{CONTRACTS}", "Value": value}
    return value


def _attribute_name(name: str) -> str:
    return name[1:-6] if name.startswith("_") and name.endswith("_value") else name


def _context(
    message: str,
    table: tables.Table,
    row: DvRecord,
    attributes: dict[str, Any],
    step: dict[str, Any],
) -> dict[str, Any]:
    record_id = str(row.record_id)
    if message == "Delete":
        target: dict[str, Any] = {
            "__type": f"EntityReference:{CONTRACTS}",
            "Id": record_id,
            "KeyAttributes": [],
            "LogicalName": table.logical_name,
            "Name": None,
            "RowVersion": None,
        }
    else:
        target = {
            "__type": f"Entity:{CONTRACTS}",
            "LogicalName": table.logical_name,
            "Id": record_id,
            "Attributes": [
                {"key": _attribute_name(k), "value": _value(k, v, table)}
                for k, v in {**attributes, table.key: record_id}.items()
                if k != "documentbody"
            ],
            "EntityState": None,
            "FormattedValues": [],
            "KeyAttributes": [],
            "RelatedEntities": [],
            "RowVersion": str(row.version),
        }
    return {
        "BusinessUnitId": state.BUSINESS_UNIT_ID,
        "CorrelationId": str(uuid.uuid4()),
        "Depth": 1,
        "InitiatingUserId": state.USER_ID,
        "InputParameters": [{"key": "Target", "value": target}],
        "IsExecutingOffline": False,
        "IsInTransaction": step.get("mode", 1) == 0,
        "IsOfflinePlayback": False,
        "IsolationMode": 1,
        "MessageName": message,
        "Mode": step.get("mode", 1),
        "OperationCreatedOn": _sdk_date(row.modified_on),
        "OperationId": str(uuid.uuid4()),
        "OrganizationId": state.ORGANIZATION_ID,
        "OrganizationName": ORGANIZATION,
        "OutputParameters": (
            [{"key": "id", "value": record_id}] if message == "Create" else []
        ),
        "OwningExtension": {
            "Id": step["sdkmessageprocessingstepid"],
            "KeyAttributes": [],
            "LogicalName": "sdkmessageprocessingstep",
            "Name": step.get("name") or "",
            "RowVersion": None,
        },
        "ParentContext": None,
        "PostEntityImages": [],
        "PreEntityImages": [],
        "PrimaryEntityId": record_id,
        "PrimaryEntityName": table.logical_name,
        "RequestId": str(uuid.uuid4()),
        "SecondaryEntityName": "none",
        "SharedVariables": [],
        "Stage": step.get("stage", 40),
        "UserId": state.USER_ID,
    }


def _sdk_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)})/"


def _post(
    endpoint: dict[str, Any], context: dict[str, Any], step: dict[str, Any]
) -> None:
    url, headers = _address(endpoint)
    headers.update(
        {
            "Content-Type": "application/json",
            "x-request-id": context["RequestId"],
            "x-ms-dynamics-organization": f"{ORGANIZATION}.crm.dynamics.com",
            "x-ms-dynamics-entity-name": context["PrimaryEntityName"],
            "x-ms-dynamics-request-name": context["MessageName"],
            "x-ms-correlation-request-id": context["CorrelationId"],
        }
    )
    try:
        answer = requests.post(
            url, json=context, headers=headers, timeout=DELIVERY_TIMEOUT
        )
    except requests.RequestException as error:
        logger.warning(
            "Dataverse emulator: webhook to %s failed: %s", _safe(url), error
        )
        return
    if answer.status_code >= 300:
        logger.warning(
            "Dataverse emulator: webhook to %s answered %s",
            _safe(url),
            answer.status_code,
        )


def _address(endpoint: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The URL and headers that carry the endpoint's key, by ``authtype``."""
    url = str(endpoint.get("url") or "")
    auth_type = endpoint.get("authtype")
    value = str(endpoint.get("authvalue") or "")
    if auth_type == tables.AUTH_TYPES["WebhookKey"]:
        return _with_query(url, {"code": value}), {}
    pairs = _settings(value)
    if auth_type == tables.AUTH_TYPES["HttpHeader"]:
        return url, pairs
    if auth_type == tables.AUTH_TYPES["HttpQueryString"]:
        return _with_query(url, pairs), {}
    return url, {}


def _settings(value: str) -> dict[str, str]:
    """``<settings><setting name="x" value="y" /></settings>`` as a dict."""
    try:
        root = ElementTree.fromstring(value)  # noqa: S314 - set by the sandbox's own caller
    except ElementTree.ParseError:
        return {}
    return {
        item.get("name", ""): item.get("value", "")
        for item in root.iter("setting")
        if item.get("name")
    }


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(extra)]))
    return urlunsplit(parts._replace(query=query))


def _safe(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=""))
