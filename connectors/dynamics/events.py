"""Dataverse's webhook body (``RemoteExecutionContext``) as a clean event.

The SDK's JSON serializer writes entities and values with ``__type``
(``Entity:``, ``EntityReference:``, ``OptionSetValue:``, ``Money:``) and
collections as ``[{"key", "value"}]`` lists (EXTERNAL_APIS.md section 4,
[O] from two independent samples). A plain ``{name: value}`` object is
accepted too [I], since no documentation promises the list form.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from connectors.errors import PermanentError

_SDK_DATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")


def pairs(value: Any) -> dict[str, Any]:
    """``[{"key": k, "value": v}]`` (or a plain object) as a dict."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {
            str(item["key"]): item.get("value")
            for item in value
            if isinstance(item, dict) and "key" in item
        }
    return {}


def plain(value: Any) -> Any:
    """An SDK value as plain data: EntityReference -> {id, logical_name,
    name}; OptionSetValue and Money -> their value."""
    if isinstance(value, dict):
        kind = str(value.get("__type", "")).partition(":")[0]
        if kind == "EntityReference" or (
            {"Id", "LogicalName"} <= set(value) and ("Attributes" not in value)
        ):
            return {
                "id": value.get("Id"),
                "logical_name": value.get("LogicalName"),
                "name": value.get("Name"),
            }
        if kind in ("OptionSetValue", "Money") or set(value) - {"__type"} == {"Value"}:
            return value.get("Value")
        if kind == "OptionSetValueCollection":
            return [plain(item) for item in value.get("Value") or []]
        if kind == "Entity":
            return {k: plain(v) for k, v in pairs(value.get("Attributes")).items()}
        return {k: plain(v) for k, v in value.items() if k != "__type"}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, str) and (moment := sdk_date(value)):
        return moment.isoformat()
    return value


def sdk_date(text: Any) -> datetime | None:
    """``/Date(1712345678000)/`` (milliseconds since 1970) as a datetime."""
    match = _SDK_DATE.fullmatch(str(text or ""))
    if not match:
        return None
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)


def parse_context(body: Any) -> dict[str, Any]:
    """The clean record of one ``RemoteExecutionContext``.

    Raises PermanentError when the body is not one, or has no Target.
    """
    if not isinstance(body, dict) or "MessageName" not in body:
        raise PermanentError(
            "The request is not a Dynamics 365 webhook notification: its body "
            "has no MessageName. Check that the sender is a Dataverse service "
            "endpoint."
        )
    target = pairs(body.get("InputParameters")).get("Target")
    if not isinstance(target, dict):
        raise PermanentError(
            f"The Dynamics 365 notification for “{body.get('MessageName')}” on "
            f"“{body.get('PrimaryEntityName') or 'a table'}” has no Target, so "
            "there is no record to pass on. Register the step for the Create, "
            "Update or Delete message of a table."
        )
    attributes = {
        name: plain(value) for name, value in pairs(target.get("Attributes")).items()
    }
    return {
        "message": str(body.get("MessageName")),
        "entity": str(target.get("LogicalName") or body.get("PrimaryEntityName") or ""),
        "id": str(target.get("Id") or body.get("PrimaryEntityId") or ""),
        "attributes": attributes,
        "correlation_id": str(body.get("CorrelationId") or ""),
        "occurred_at": sdk_date(body.get("OperationCreatedOn")),
    }


def event_id(body: dict[str, Any]) -> str:
    """Stable across redeliveries: RequestId, else CorrelationId+OperationId."""
    if body.get("RequestId"):
        return f"dataverse:{body['RequestId']}"
    if body.get("CorrelationId") and body.get("OperationId"):
        return f"dataverse:{body['CorrelationId']}:{body['OperationId']}"
    raise PermanentError(
        "The Dynamics 365 notification carries neither a RequestId nor a "
        "CorrelationId and OperationId, so a repeat could not be recognised."
    )
