"""The emulated Web API: ``api/data/v9.2/<entity set>[(<key>)]`` and ``$metadata``.

Queries (``$select $filter $orderby $top $expand $count``), paging with
``Prefer: odata.maxpagesize`` and ``@odata.nextLink``, change tracking
(``Prefer: odata.track-changes``, ``$deltatoken``), create, update with
``If-Match``, upsert, delete and alternate keys, as in EXTERNAL_APIS.md
section 4. The ``$skiptoken`` (a paging cookie in Dataverse) and the delta
token are opaque numbers here [I].
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from connectors.dynamics.emulator import state, tables, webhooks
from connectors.dynamics.emulator.query import (
    QueryError,
    order,
    parse_expand,
    parse_filter,
)
from connectors.dynamics.emulator.responses import (
    BAD_REQUEST,
    DUPLICATE,
    NOT_FOUND,
    STALE,
    ApiError,
    base_url,
    json_body,
    prefers,
    web_api,
)
from connectors.dynamics.sandbox.models import DvRecord

API = "api/data/v9.2/"
MAX_PAGE_SIZE = 5000
_GUID = re.compile(r"^\{?([0-9a-fA-F-]{36})\}?$")
_KEY_PART = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[^,]+)\s*,?")
_BIND = re.compile(r"^(?:.*/)?([A-Za-z_]+)\(\{?([0-9a-fA-F-]{36})\}?\)$")
_COOKIE = re.compile(r'(first|pagesize)="(\d+)"')


def _table(entity_set: str) -> tables.Table:
    table = tables.TABLES.get(entity_set)
    if table is None:
        raise ApiError(
            404,
            "0x8006088a",
            f"Resource not found for the segment '{entity_set}'.",
        )
    return table


def _key(table: tables.Table, text: str) -> str | dict[str, Any]:
    """``guid`` or ``name='value',other=1`` from the URL's parentheses."""
    text = text.strip()
    if match := _GUID.match(text):
        return match.group(1).lower()
    values: dict[str, Any] = {}
    position = 0
    while position < len(text):
        match = _KEY_PART.match(text, position)
        if not match:
            raise ApiError(400, BAD_REQUEST, f"The key '{text}' is not valid.")
        name, raw = match.groups()
        if name not in table.all_columns():
            raise ApiError(
                400,
                BAD_REQUEST,
                f"The key attribute '{name}' is not defined on {table.logical_name}.",
            )
        raw = raw.strip()
        if raw.startswith("'"):
            values[name] = raw[1:-1].replace("''", "'")
        else:
            try:
                values[name] = int(raw)
            except ValueError:
                values[name] = raw
        position = match.end()
    if not values:
        raise ApiError(400, BAD_REQUEST, f"The key '{text}' is not valid.")
    return values


def _not_found(table: tables.Table, key: str | dict[str, Any]) -> ApiError:
    if isinstance(key, str):
        message = f"{table.logical_name} With Id = {key} Does Not Exist"
    else:
        message = (
            "A record with the specified key values does not exist in "
            f"{table.logical_name} entity"
        )
    return ApiError(404, NOT_FOUND, message)


def etag(row: DvRecord) -> str:
    return f'W/"{row.version}"'


def represent(
    request: HttpRequest,
    table: tables.Table,
    row: DvRecord,
    select: list[str] | None = None,
    expand: list[tuple[str, list[str]]] | None = None,
) -> dict[str, Any]:
    full = {
        **{name: None for name in table.columns},
        **row.data,
        table.key: str(row.record_id),
        "createdon": state.iso(row.created_on),
        "modifiedon": state.iso(row.modified_on),
        "versionnumber": row.version,
    }
    if select:
        full = {k: v for k, v in full.items() if k in select or k == table.key}
    body: dict[str, Any] = {"@odata.etag": etag(row), **full}
    for name, selected in expand or []:
        lookup = table.lookups[name]
        target = tables.TABLES.get(lookup.target)
        related = (
            state.find(lookup.target, str(row.data.get(lookup.column) or ""))
            if target
            else None
        )
        body[name] = (
            represent(request, target, related, selected)
            if target and related
            else None
        )
    return body


def _columns(request: HttpRequest, table: tables.Table) -> list[str] | None:
    text = request.GET.get("$select", "")
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    known = table.all_columns()
    for name in names:
        if name not in known:
            raise ApiError(
                400,
                BAD_REQUEST,
                f"Could not find a property named '{name}' on type "
                f"'Microsoft.Dynamics.CRM.{table.logical_name}'.",
            )
    return names


def _expansions(
    request: HttpRequest, table: tables.Table
) -> list[tuple[str, list[str]]]:
    try:
        expand = parse_expand(request.GET.get("$expand", ""))
    except QueryError as problem:
        raise ApiError(400, BAD_REQUEST, str(problem)) from None
    for name, _ in expand:
        if name not in table.lookups:
            raise ApiError(
                400,
                BAD_REQUEST,
                f"Could not find a property named '{name}' on type "
                f"'Microsoft.Dynamics.CRM.{table.logical_name}'.",
            )
    return expand


# --- Views -----------------------------------------------------------------------


@web_api("GET")
def service_document(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {
            "@odata.context": base_url(request, API + "$metadata"),
            "value": [
                {"name": name, "kind": "EntitySet", "url": name}
                for name in tables.TABLES
            ],
        }
    )


@web_api("GET")
def metadata(request: HttpRequest) -> HttpResponse:
    return HttpResponse(tables.csdl(), content_type="application/xml")


@web_api("GET", "POST")
def collection(request: HttpRequest, entity_set: str) -> HttpResponse:
    table = _table(entity_set)
    if request.method == "POST":
        return _create(request, table)
    if "$deltatoken" in request.GET:
        return _delta(request, table)
    if "$skip" in request.GET:
        raise ApiError(400, BAD_REQUEST, "The query parameter $skip is not supported.")
    return _query(request, table)


def _query(request: HttpRequest, table: tables.Table) -> HttpResponse:
    select = _columns(request, table)
    expand = _expansions(request, table)
    rows = state.live_rows(table.entity_set)
    pairs = [(row, represent(request, table, row)) for row in rows]
    columns = set(table.all_columns())
    try:
        if text := request.GET.get("$filter", ""):
            keep = parse_filter(text, columns, table.logical_name)
            pairs = [(row, data) for row, data in pairs if keep(data)]
        if text := request.GET.get("$orderby", ""):
            ordered = order([data for _, data in pairs], text, columns)
            by_id = {data[table.key]: row for row, data in pairs}
            pairs = [(by_id[data[table.key]], data) for data in ordered]
    except QueryError as problem:
        raise ApiError(400, BAD_REQUEST, str(problem)) from None
    total = len(pairs)
    preferences = prefers(request)
    tracking = "odata.track-changes" in preferences
    applied = []
    next_link = None
    if top := request.GET.get("$top"):
        try:
            pairs = pairs[: max(0, int(top))]
        except ValueError:
            raise ApiError(400, BAD_REQUEST, "$top must be a number.") from None
    elif not tracking:
        # The cookie remembers where the next page starts and its size, so a
        # next link works with or without the Prefer header again [I].
        cookie = dict(_COOKIE.findall(request.GET.get("$skiptoken", "")))
        size = int(cookie.get("pagesize") or MAX_PAGE_SIZE)
        if "odata.maxpagesize" in preferences:
            try:
                size = int(preferences["odata.maxpagesize"])
            except ValueError:
                raise ApiError(
                    400, BAD_REQUEST, "odata.maxpagesize must be a number."
                ) from None
            size = max(1, min(MAX_PAGE_SIZE, size))
            applied.append(f"odata.maxpagesize={size}")
        start = int(cookie.get("first") or 0)
        if start + size < len(pairs):
            params = {k: v for k, v in request.GET.items() if k != "$skiptoken"}
            params["$skiptoken"] = (
                f'<cookie pagenumber="{start // size + 2}" first="{start + size}" '
                f'pagesize="{size}" istracking="False" />'
            )
            next_link = _link(request, table, params)
        pairs = pairs[start : start + size]
    body: dict[str, Any] = {"@odata.context": _context(request, table, select)}
    if request.GET.get("$count", "").lower() == "true":
        body["@odata.count"] = total
    body["value"] = [represent(request, table, row, select, expand) for row, _ in pairs]
    if next_link:
        body["@odata.nextLink"] = next_link
    if tracking:
        params = {k: v for k, v in request.GET.items() if k.startswith("$select")}
        params["$deltatoken"] = str(state.current_token())
        body["@odata.deltaLink"] = _link(request, table, params)
        applied.append("odata.track-changes")
    response = JsonResponse(body)
    if applied:
        response["Preference-Applied"] = ",".join(applied)
    return response


def _context(request: HttpRequest, table: tables.Table, select: Any) -> str:
    suffix = f"({','.join(select)})" if select else ""
    return base_url(request, f"{API}$metadata#{table.entity_set}{suffix}")


def _link(request: HttpRequest, table: tables.Table, params: dict[str, str]) -> str:
    query = urlencode(params, quote_via=quote, safe="$,")
    return base_url(request, f"{API}{table.entity_set}?{query}")


def _delta(request: HttpRequest, table: tables.Table) -> HttpResponse:
    try:
        token = int(request.GET["$deltatoken"])
    except ValueError:
        raise ApiError(400, BAD_REQUEST, "The delta token is not valid.") from None
    select = _columns(request, table)
    changes = []
    for row in state.changes_since(table.entity_set, token):
        if row.deleted:
            changes.append(
                {
                    "@odata.context": base_url(
                        request, f"{API}$metadata#{table.entity_set}/$deletedEntity"
                    ),
                    "id": str(row.record_id),
                    "reason": "deleted",
                }
            )
        else:
            changes.append(represent(request, table, row, select))
    params = {k: v for k, v in request.GET.items() if k == "$select"}
    params["$deltatoken"] = str(max(token, state.current_token()))
    return JsonResponse(
        {
            "@odata.context": _context(request, table, select) + "/$delta",
            "value": changes,
            "@odata.deltaLink": _link(request, table, params),
        }
    )


@web_api("GET", "PATCH", "DELETE")
def record(request: HttpRequest, entity_set: str, key: str) -> HttpResponse:
    table = _table(entity_set)
    parsed = _key(table, key)
    if request.method == "GET":
        row = state.find(entity_set, parsed)
        if row is None:
            raise _not_found(table, parsed)
        select = _columns(request, table)
        body = represent(request, table, row, select, _expansions(request, table))
        context = _context(request, table, select) + "/$entity"
        response = JsonResponse({"@odata.context": context, **body})
        response["ETag"] = etag(row)
        return response
    if request.method == "DELETE":
        with transaction.atomic():
            row = state.find(entity_set, parsed)
            if row is None:
                raise _not_found(table, parsed)
            _check_match(request, row)
            state.delete(row)
            webhooks.announce("Delete", table, row, {})
        return HttpResponse(status=204)
    return _patch(request, table, parsed)


def _check_match(request: HttpRequest, row: DvRecord) -> None:
    wanted = request.headers.get("If-Match", "").strip()
    if wanted and wanted != "*" and wanted != etag(row):
        raise ApiError(
            412,
            STALE,
            "The version of the existing record doesn't match the RowVersion "
            "property provided.",
        )


def _patch(
    request: HttpRequest, table: tables.Table, key: str | dict[str, Any]
) -> HttpResponse:
    changes = _attributes(table, json_body(request))
    if_match = request.headers.get("If-Match", "").strip()
    create_only = request.headers.get("If-None-Match", "").strip() == "*"
    with transaction.atomic():
        row = state.find(table.entity_set, key)
        if row is not None and create_only:
            raise ApiError(
                412, DUPLICATE, "A record with matching key values already exists."
            )
        if row is None and if_match:
            raise _not_found(table, key)
        if row is None:
            record_id = key if isinstance(key, str) else str(uuid.uuid4())
            values = {} if isinstance(key, str) else dict(key)
            row = _insert(table, record_id, {**values, **changes})
            created = True
        else:
            _check_match(request, row)
            row = state.update(row, _derived(table, {**row.data, **changes}, changes))
            webhooks.announce("Update", table, row, changes)
            created = False
    return _written(request, table, row, 201 if created else 200)


def _create(request: HttpRequest, table: tables.Table) -> HttpResponse:
    body = json_body(request)
    record_id = str(body.pop(table.key, "") or uuid.uuid4()).lower()
    changes = _attributes(table, body)
    with transaction.atomic():
        if state.find(table.entity_set, record_id) is not None:
            # [I] Dataverse's status for a duplicate primary key on POST.
            raise ApiError(
                412, DUPLICATE, "A record with matching key values already exists."
            )
        row = _insert(table, record_id, changes)
    return _written(request, table, row, 201)


def _insert(table: tables.Table, record_id: str, values: dict[str, Any]) -> DvRecord:
    values = _derived(table, values, values)
    if table.entity_set == "incidents" and not values.get("ticketnumber"):
        values["ticketnumber"] = f"CAS-{state.next_version():05d}-SANDBOX"
    row = state.create(table.entity_set, record_id, values)
    webhooks.announce("Create", table, row, row.data)
    return row


def _derived(
    table: tables.Table, values: dict[str, Any], changes: dict[str, Any]
) -> dict[str, Any]:
    """Columns Dataverse computes: a contact's fullname, a note's isdocument."""
    if table.entity_set == "contacts" and ({"firstname", "lastname"} & set(changes)):
        parts = [values.get("firstname"), values.get("lastname")]
        values["fullname"] = " ".join(p for p in parts if p)
    if table.entity_set == "annotations" and "documentbody" in changes:
        body = values.get("documentbody") or ""
        try:
            size = len(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            raise ApiError(
                400, BAD_REQUEST, "documentbody is not valid base64."
            ) from None
        values.update(isdocument=bool(body), filesize=size)
    return values


def _written(
    request: HttpRequest, table: tables.Table, row: DvRecord, status: int
) -> HttpResponse:
    location = base_url(request, f"{API}{table.entity_set}({row.record_id})")
    if "return" in prefers(request) and prefers(request)["return"] == "representation":
        select = _columns(request, table)
        body = {
            "@odata.context": _context(request, table, select) + "/$entity",
            **represent(request, table, row, select),
        }
        response: HttpResponse = JsonResponse(body, status=status)
        response["Preference-Applied"] = "return=representation"
    else:
        response = HttpResponse(status=204)
    response["OData-EntityId"] = location
    response["ETag"] = etag(row)
    return response


def _attributes(table: tables.Table, body: dict[str, Any]) -> dict[str, Any]:
    """Columns and ``@odata.bind`` lookups of a request body, checked."""
    known = table.all_columns()
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name.startswith("@"):
            continue
        if name.endswith("@odata.bind"):
            nav = name.removesuffix("@odata.bind")
            values.update(_bind(table, nav, value))
        elif name in known and not name.startswith("_"):
            values[name] = value
        else:
            raise ApiError(
                400,
                BAD_REQUEST,
                f"The property '{name}' does not exist on type "
                f"'Microsoft.Dynamics.CRM.{table.logical_name}'. Make sure to only "
                "use property names that are defined by the type.",
            )
    return values


def _bind(table: tables.Table, nav: str, value: Any) -> dict[str, Any]:
    lookup = table.lookups.get(nav)
    if lookup is None:
        raise ApiError(
            400,
            BAD_REQUEST,
            f"An undeclared property '{nav}' which only has property annotations "
            "in the payload but no property value was found in the payload.",
        )
    if value is None:
        return {lookup.column: None}
    match = _BIND.match(str(value))
    if not match:
        raise ApiError(
            400, BAD_REQUEST, f"The reference '{value}' of {nav} is not valid."
        )
    target_set, target_id = match.group(1), match.group(2).lower()
    target = tables.TABLES.get(target_set)
    if target is not None and state.find(target_set, target_id) is None:
        raise _not_found(target, target_id)
    return {lookup.column: target_id}
