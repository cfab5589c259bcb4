"""A small Dataverse Web API client on top of ``HttpClient``.

It adds the OData headers, turns Dataverse's error bodies
(``{"error":{"code","message"}}``) into ``connectors.errors`` with messages
a business user can act on, follows ``@odata.nextLink`` and writes records
with the ETag and ``Prefer`` semantics of EXTERNAL_APIS.md section 4.
Tokens come from ``connectors.auth`` (cached, renewed once on 401).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from typing import IO, Any
from urllib.parse import quote

import requests
from requests.auth import AuthBase

from connectors.errors import ConnectorError, PermanentError
from connectors.http import HttpClient
from connectors.http.client import Timeout
from connectors.http.failures import error_text

LABEL = "Dynamics 365"
ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?$")
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")
IDS = uuid.UUID("0b8e7c52-3a0f-4d55-9a43-6f1b0c9de2a7")
LOGICAL_NAMES = {
    "accounts": "account",
    "contacts": "contact",
    "opportunities": "opportunity",
    "incidents": "incident",
    "salesorders": "salesorder",
    "invoices": "invoice",
    "annotations": "annotation",
    "sharepointdocumentlocations": "sharepointdocumentlocation",
    "sharepointsites": "sharepointsite",
}


def logical_name(entity_set: str) -> str:
    """``accounts`` -> ``account``. Other tables: the set name without its
    plural ``s`` [I]; Dataverse's EntitySetName can differ (check $metadata)."""
    return LOGICAL_NAMES.get(entity_set) or entity_set.removesuffix("s")


def stable_id(connection_id: int | None, entity_set: str, idempotency_key: str) -> str:
    """The GUID a record made under ``idempotency_key`` gets (random without)."""
    if not idempotency_key:
        return str(uuid.uuid4())
    return str(uuid.uuid5(IDS, f"{connection_id}:{entity_set}:{idempotency_key}"))


def what(entity_set: str, record_id: str, alternate_key: Any) -> str:
    """``the account with id ...``: the record as messages name it."""
    return (
        f"the {logical_name(entity_set)} with {describe_key(record_id, alternate_key)}"
    )


class RecordNotFoundError(PermanentError):
    """The record (or table) does not exist, or the app user may not see it."""


class RecordChangedError(PermanentError):
    """412: the record changed since it was read (or already exists)."""


def record_key(
    record_id: str = "", alternate_key: Mapping[str, Any] | None = None
) -> str:
    """The part in parentheses: ``<guid>`` or ``accountnumber='A1'``."""
    if record_id:
        if not _GUID.match(record_id.strip()):
            raise PermanentError(
                f"“{record_id}” is not a Dynamics 365 record id: it must be a "
                "GUID such as 00000000-0000-0000-0000-000000000000."
            )
        return record_id.strip().strip("{}").lower()
    if not alternate_key:
        raise PermanentError(
            "Name the record by its id or by an alternate key (for example "
            "accountnumber = A1)."
        )
    parts = []
    for name, value in alternate_key.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            value = "'" + str(value).replace("'", "''") + "'"
        parts.append(f"{name}={quote(str(value), safe=chr(39) + '=')}")
    return ",".join(parts)


def describe_key(
    record_id: str = "", alternate_key: Mapping[str, Any] | None = None
) -> str:
    if record_id:
        return f"id {record_id}"
    return " and ".join(f"{k} “{v}”" for k, v in (alternate_key or {}).items())


class DataverseClient:
    """Calls to one environment's Web API (``.../api/data/v9.2/``)."""

    def __init__(
        self,
        api_url: str,
        auth: AuthBase | None,
        *,
        verify: bool | str = True,
        timeout: Timeout | None = None,
    ) -> None:
        self.http = HttpClient(
            api_url,
            auth=auth,
            verify=verify,
            timeout=timeout,
            headers=ODATA_HEADERS,
            system_label=LABEL,
        )

    def close(self) -> None:
        self.http.close()

    # -- Sending --

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str = "",
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One call; an error status raises with Dataverse's message in it.

        ``what`` names the target in messages ("account with id ...").
        """
        response = self.http.request(
            method, path, headers=headers, raise_errors=False, **kwargs
        )
        if response.status_code >= 400:
            error = self._error(response, what)
            response.close()
            raise error
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            raise PermanentError(
                f"{LABEL} answered with something that is not JSON: check the "
                "environment URL of the connection.",
                status=response.status_code,
            ) from None
        return body if isinstance(body, dict) else {}

    def _error(self, response: requests.Response, what: str) -> ConnectorError:
        status = response.status_code
        code, said = _dataverse_error(response)
        detail = (
            f"HTTP {status} {code} from {response.request.method} "
            + (response.url.split("?")[0])
        )
        detail += f": {said}" if said else ""
        if status == 404:
            target = what or "the record"
            return RecordNotFoundError(
                f"{LABEL} could not find {target}: check the id or key, and that "
                f"the app user may read it.{_quoted(said)}",
                detail=detail,
                status=status,
            )
        if status == 412:
            return RecordChangedError(
                f"{target_name(what)} changed in {LABEL} since it was read: read it "
                "again and repeat the update.",
                detail=detail,
                status=status,
            )
        if status in (400, 405, 409, 413, 415, 422):
            return PermanentError(
                f"{LABEL} refused the request{_quoted(said, ':') or '.'}",
                detail=detail,
                status=status,
            )
        error = self.http.status_error(response)
        error.detail = detail
        return error

    # -- Reading --

    def pages(
        self,
        entity_set: str,
        params: Mapping[str, str],
        *,
        page_size: int = 500,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every page of a query, following ``@odata.nextLink``."""
        prefer = {"Prefer": f"odata.maxpagesize={page_size}", **(headers or {})}
        body = self.json("GET", entity_set, params=params, headers=prefer)
        while True:
            yield body
            link = body.get("@odata.nextLink")
            if not link:
                return
            body = self.json("GET", link, headers=prefer)

    def get(
        self,
        entity_set: str,
        key: str,
        params: Mapping[str, str] | None = None,
        *,
        what: str = "",
    ) -> dict[str, Any]:
        return self.json("GET", f"{entity_set}({key})", params=params, what=what)

    # -- Writing --

    def create(self, entity_set: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """POST with ``return=representation``: the created record."""
        return self.json(
            "POST",
            entity_set,
            json=dict(values),
            headers={"Prefer": "return=representation"},
        )

    def patch(
        self,
        entity_set: str,
        key: str,
        values: Mapping[str, Any] | None = None,
        *,
        if_match: str = "",
        if_none_match: str = "",
        what: str = "",
        data: IO[bytes] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """PATCH (update, create-only or upsert): status and the record."""
        headers = {"Prefer": "return=representation"}
        if if_match:
            headers["If-Match"] = if_match
        if if_none_match:
            headers["If-None-Match"] = if_none_match
        if data is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        response = self.request(
            "PATCH",
            f"{entity_set}({key})",
            json=None if data is not None else dict(values or {}),
            data=data,
            headers=headers,
            what=what,
        )
        body = response.json() if response.content else {}
        return response.status_code, body

    def create_once(
        self, entity_set: str, record_id: str, values: Mapping[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """Create the record with ``record_id`` unless it exists: the record,
        and whether this call created it."""
        try:
            _, record = self.patch(entity_set, record_id, values, if_none_match="*")
            return record, True
        except RecordChangedError:
            return self.get(entity_set, record_id), False


def entity_id(response: requests.Response) -> str:
    """The GUID in an ``OData-EntityId`` header."""
    match = _ENTITY_ID.search(response.headers.get("OData-EntityId", ""))
    return match.group(1) if match else ""


def target_name(what: str) -> str:
    text = what or "The record"
    return text[0].upper() + text[1:]


def _quoted(said: str, lead: str = "") -> str:
    if not said:
        return ""
    said = said if said.endswith((".", "!", "?")) else said + "."
    return f"{lead} {said}" if lead else f" {LABEL} said: {said}"


def _dataverse_error(response: requests.Response) -> tuple[str, str]:
    """``(code, message)`` of a Dataverse error body."""
    try:
        body = response.json()
    except ValueError:
        return "", error_text(response)[0]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")[:500]
    return "", error_text(response)[0]
