"""Nodes: read, browse, create folders, upload documents, move, delete.

v2 answers wrap a node as ``{"links": ..., "results": {"data": {"properties":
{...}}}}``; browsing and search add ``collection.paging``. An unknown node is
a 400 ("Could not get a node for 123"), a duplicate name in a folder a 500
whose text says "already exists", as in Content Server.
"""

from __future__ import annotations

import mimetypes
from math import ceil
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from connectors.otcs.emulator import categories
from connectors.otcs.emulator.responses import (
    ApiError,
    date_param,
    integer,
    otcs,
    params,
    require,
    uploaded_file,
)
from connectors.otcs.emulator.state import (
    CONTAINERS,
    TYPE_NAMES,
    blob_dir,
    create_node,
    iso,
    store_blob,
)
from connectors.sandbox.models import OtcsNode, OtcsVersion

CREATABLE = {0, 144}
SORTABLE = {"name", "modify_date", "create_date", "size", "id", "type"}


def get_node(node_id: int) -> OtcsNode:
    """The node, or Content Server's 400."""
    node = OtcsNode.objects.filter(id=node_id).first()
    if node is None:
        raise ApiError(400, f"Could not get a node for {node_id}")
    return node


def _size_formatted(node: OtcsNode, children: int) -> str:
    if node.type in CONTAINERS:
        return f"{children} Items"
    if node.size < 1024:
        return f"{node.size} bytes"
    return f"{ceil(node.size / 1024)} KB"


def properties(node: OtcsNode) -> dict[str, Any]:
    """The documented ``properties`` of a node."""
    container = node.type in CONTAINERS
    children = OtcsNode.objects.filter(parent_id=node.id).count() if container else 0
    return {
        "id": node.id,
        "parent_id": node.parent_id or -1,
        "name": node.name,
        "name_multilingual": {"en": node.name},
        "type": node.type,
        "type_name": TYPE_NAMES.get(node.type, "Unknown"),
        "description": node.description,
        "description_multilingual": {"en": node.description},
        "create_date": iso(node.create_date),
        "modify_date": iso(node.modify_date),
        "create_user_id": node.create_user_id,
        "modify_user_id": node.modify_user_id,
        "owner_user_id": node.owner_user_id,
        "container": container,
        "container_size": children,
        "size": children if container else node.size,
        "size_formatted": _size_formatted(node, children),
        "mime_type": node.mime_type or None,
        "reserved": False,
        "reserved_user_id": 0,
        "volume_id": -2000,
        "external_create_date": iso(node.external_create_date),
        "external_source": node.external_source,
    }


def links(request: HttpRequest) -> dict[str, Any]:
    """The ``links`` block of a v2 answer."""
    return {
        "data": {
            "self": {
                "body": "",
                "content_type": "",
                "href": request.get_full_path(),
                "method": request.method,
                "name": "",
            }
        }
    }


def node_envelope(request: HttpRequest, node: OtcsNode) -> JsonResponse:
    """A v2 answer about one node."""
    return JsonResponse(
        {
            "links": links(request),
            "results": {"data": {"properties": properties(node)}},
        }
    )


def paged(
    request: HttpRequest, items: list[Any], page: int, limit: int, total: int
) -> dict[str, int]:
    """``collection.paging``: 1-based ``range_min``..``range_max``."""
    start = (page - 1) * limit
    return {
        "limit": limit,
        "page": page,
        "page_total": max(1, ceil(total / limit)),
        "range_min": start + 1 if items else 0,
        "range_max": start + len(items),
        "total_count": total,
    }


def _container(node_id: int) -> OtcsNode:
    parent = get_node(node_id)
    if parent.type not in CONTAINERS:
        raise ApiError(400, f"Node {node_id} is not a container.")
    return parent


def _refuse_duplicate(parent: OtcsNode, name: str, but: int | None = None) -> None:
    clash = OtcsNode.objects.filter(parent=parent, name=name).exclude(id=but)
    if clash.exists():
        raise ApiError(
            500, f"An item with the name '{name}' already exists in the container."
        )


def _mime(upload: UploadedFile) -> str:
    given = (upload.content_type or "").split(";")[0].strip()
    if given and given != "application/octet-stream":
        return given
    return mimetypes.guess_type(upload.name or "")[0] or "application/octet-stream"


def add_version(
    node: OtcsNode, upload: UploadedFile, user_id: int, values: dict[str, Any]
) -> OtcsVersion:
    """Store ``upload`` (streamed) as the node's next version."""
    blob, size = store_blob(upload)
    now = timezone.now()
    try:
        with transaction.atomic():
            last = node.otcsversion_set.order_by("-number").first()
            major = bool(str(values.get("add_major_version", "")).lower() == "true")
            if last is None:
                numbers = (1, 0)
            elif major:
                numbers = (last.major + 1, 0)
            else:
                numbers = (last.major, last.minor + 1)
            top = node.otcsversion_set.aggregate(top=Max("number"))["top"] or 0
            version = OtcsVersion.objects.create(
                node=node,
                number=top + 1,
                major=numbers[0],
                minor=numbers[1],
                file_name=upload.name or node.name,
                blob=blob,
                size=size,
                mime_type=_mime(upload),
                description=str(values.get("description") or ""),
                create_date=now,
                owner_id=user_id,
            )
            OtcsNode.objects.filter(id=node.id).update(
                size=size,
                mime_type=version.mime_type,
                modify_date=now,
                modify_user_id=user_id,
            )
    except Exception:
        (blob_dir() / blob).unlink(missing_ok=True)
        raise
    return version


def create(request: HttpRequest, user_id: int, nested: bool) -> OtcsNode:
    """A folder or (with a ``file`` part) a document, with its categories."""
    values = params(request)
    kind = integer(require(values, "type"), "type")
    parent_id = integer(require(values, "parent_id"), "parent_id")
    name = str(require(values, "name")).strip()
    if kind not in CREATABLE:
        raise ApiError(400, f"The sandbox cannot create nodes of type {kind}.")
    parent = _container(parent_id)
    upload = uploaded_file(request)
    if kind == 144 and upload is None:
        raise ApiError(400, "A file is required to add a document.")
    _refuse_duplicate(parent, name)
    roles = values.get("roles") or {}
    if not isinstance(roles, dict):
        raise ApiError(400, "roles must be an object.")
    for _attempt in range(5):
        try:
            with transaction.atomic():
                node = create_node(
                    parent,
                    kind,
                    name,
                    user_id,
                    description=str(values.get("description") or ""),
                    external_create_date=date_param(
                        values.get("external_create_date"), "external_create_date"
                    ),
                    external_source=str(values.get("external_source") or ""),
                )
                categories.apply_roles(node, roles.get("categories"), nested)
            break
        except IntegrityError:
            # Another process took the id or the name: a name clash is final.
            _refuse_duplicate(parent, name)
    else:
        raise ApiError(500, "Could not allocate a node id; try again.")
    if upload is not None:
        try:
            add_version(node, upload, user_id, {})
        except Exception:
            node.delete()
            raise
        node.refresh_from_db()
    return node


@otcs("POST")
def create_v2(request: HttpRequest, user_id: int) -> HttpResponse:
    """``POST api/v2/nodes``: create a folder or upload a document."""
    return node_envelope(request, create(request, user_id, nested=False))


@otcs("POST")
def create_v1(request: HttpRequest, user_id: int) -> HttpResponse:
    """``POST api/v1/nodes``: the same, answering ``{"id": ...}``."""
    return JsonResponse({"id": create(request, user_id, nested=True).id})


def _update(request: HttpRequest, node: OtcsNode, user_id: int) -> None:
    values = params(request)
    name = str(values.get("name") or node.name).strip()
    parent = node.parent
    if values.get("parent_id") not in (None, ""):
        parent = _container(integer(values["parent_id"], "parent_id"))
        cursor: OtcsNode | None = parent
        while cursor is not None:
            if cursor.id == node.id:
                raise ApiError(400, "A node cannot be moved into itself.")
            cursor = cursor.parent
    if parent is not None:
        _refuse_duplicate(parent, name, but=node.id)
    node.name = name
    node.parent = parent
    if "description" in values:
        node.description = str(values["description"] or "")
    node.modify_date = timezone.now()
    node.modify_user_id = user_id
    try:
        node.save()
    except IntegrityError:
        raise ApiError(
            500, f"An item with the name '{name}' already exists in the container."
        ) from None


def _delete(node: OtcsNode) -> None:
    if node.parent_id is None:
        raise ApiError(400, f"Node {node.id} cannot be deleted.")
    ids, frontier = [node.id], [node.id]
    while frontier:
        frontier = list(
            OtcsNode.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        )
        ids.extend(frontier)
    blobs = list(
        OtcsVersion.objects.filter(node_id__in=ids).values_list("blob", flat=True)
    )
    node.delete()
    for blob in blobs:
        (blob_dir() / blob).unlink(missing_ok=True)


@otcs("GET", "PUT", "DELETE")
def node_v2(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """Read (``fields``, ``metadata`` accepted and ignored), update or delete."""
    node = get_node(node_id)
    if request.method == "PUT":
        _update(request, node, user_id)
    elif request.method == "DELETE":
        _delete(node)
        return JsonResponse({"links": links(request), "results": {}})
    return node_envelope(request, node)


@otcs("GET", "PUT", "DELETE")
def node_v1(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """The v1 node: ``{"data": {...properties}, "type", "type_name"}``."""
    node = get_node(node_id)
    if request.method == "DELETE":
        _delete(node)
        return JsonResponse({})
    if request.method == "PUT":
        _update(request, node, user_id)
    return JsonResponse(
        {
            "data": properties(node),
            "type": node.type,
            "type_name": TYPE_NAMES.get(node.type, "Unknown"),
        }
    )


def sort_nodes(query: QuerySet[OtcsNode], sort: str) -> QuerySet[OtcsNode]:
    """``asc_name``, ``desc_modify_date``...; unknown keys are a 400."""
    direction, _, field = sort.partition("_")
    if direction not in {"asc", "desc"} or field not in SORTABLE:
        raise ApiError(400, f"Invalid value for parameter sort: {sort}.")
    prefix = "-" if direction == "desc" else ""
    return query.order_by(f"{prefix}{field}", f"{prefix}id")


def page_and_limit(values: Any) -> tuple[int, int]:
    """``page`` (from 1) and ``limit`` (1..1000, 25 by default) [I]."""
    page = integer(values.get("page") or 1, "page")
    limit = integer(values.get("limit") or 25, "limit")
    if page < 1 or not 1 <= limit <= 1000:
        raise ApiError(400, "Invalid value for parameter page or limit.")
    return page, limit


@otcs("GET")
def children(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """``GET api/v2/nodes/{id}/nodes``: one page of a folder's children.

    ``where_type`` filters by subtype (or a group: -1, -2, -3),
    ``where_name`` by a case-insensitive
    part of the name [I: the real filter's matching rules are not documented].
    """
    parent = get_node(node_id)
    query = OtcsNode.objects.filter(parent=parent)
    if request.GET.get("where_type"):
        types = [
            integer(item, "where_type") for item in request.GET.getlist("where_type")
        ]
        # Negative values are groups (pyxecm's get_subnodes documents them):
        # -1 every container, -2 every searchable object (here: everything),
        # -3 every non-container.
        if -2 in types:
            pass
        elif -1 in types or -3 in types:
            wanted = query.filter(type__in=[t for t in types if t >= 0])
            if -1 in types:
                wanted = wanted | query.filter(type__in=CONTAINERS)
            if -3 in types:
                wanted = wanted | query.exclude(type__in=CONTAINERS)
            query = wanted
        else:
            query = query.filter(type__in=types)
    if request.GET.get("where_name"):
        query = query.filter(name__icontains=request.GET["where_name"])
    sort = request.GET.get("sort") or "asc_name"
    query = sort_nodes(query, sort)
    page, limit = page_and_limit(request.GET)
    total = query.count()
    items = list(query[(page - 1) * limit : page * limit])
    return JsonResponse(
        {
            "collection": {
                "paging": paged(request, items, page, limit, total),
                "sorting": {"sort": [{"key": "sort", "value": sort}]},
            },
            "links": links(request),
            "results": [{"data": {"properties": properties(n)}} for n in items],
        }
    )
