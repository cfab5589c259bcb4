"""Business workspaces (Extended ECM): types, create, find, link, relate.

Follows /work/shared/EXTERNAL_APIS.md section 1 "Business Workspaces". A
workspace is a node of subtype 848 created from its type's template (the
template's sub-folders are copied); business objects are linked to it by
``ext_system_id`` / ``bo_type`` / ``bo_id``. Assumptions are marked [A].
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from connectors.otcs.emulator import categories
from connectors.otcs.emulator.nodes import (
    get_node,
    links,
    page_and_limit,
    paged,
    properties,
)
from connectors.otcs.emulator.responses import ApiError, integer, otcs, params, require
from connectors.otcs.emulator.state import (
    CONTAINERS,
    ENTERPRISE_WORKSPACE,
    create_node,
)
from connectors.sandbox.models import (
    OtcsNode,
    OtcsWorkspace,
    OtcsWorkspaceReference,
    OtcsWorkspaceRelation,
    OtcsWorkspaceType,
)

REL_TYPES = {"child", "parent"}


def _template(wksp_type: OtcsWorkspaceType) -> dict[str, Any]:
    node = wksp_type.template
    return {"id": node.id, "name": node.name, "subtype": node.type}


def _truthy(value: Any) -> bool:
    return str(value).lower() in {"true", "1", ""} if value is not None else False


@otcs("GET")
def types_v2(request: HttpRequest, user_id: int) -> HttpResponse:
    """``GET api/v2/businessworkspacetypes`` (``ext_system_id``/``bo_type``)."""
    query = OtcsWorkspaceType.objects.select_related("template").order_by("id")
    for name in ("ext_system_id", "bo_type"):
        if request.GET.get(name):
            query = query.filter(**{name: request.GET[name]})
    expand = _truthy(request.GET.get("expand_templates"))
    results = []
    for wksp_type in query:
        data: dict[str, Any] = {
            "wksp_type_id": wksp_type.id,
            "wksp_type_name": wksp_type.name,
            "rm_enabled": wksp_type.rm_enabled,
        }
        if expand:
            data["templates"] = [_template(wksp_type)]
        # [A] the icon is not emulated: an empty value.
        results.append(
            {"data": {"properties": data, "wksp_info": {"wksp_type_icon": ""}}}
        )
    return JsonResponse({"links": links(request), "results": results})


@otcs("GET")
def types_v1(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """``GET api/v1/nodes/{parentId}/businessworkspacetypes``."""
    get_node(node_id)
    types = [
        {
            "id": t.id,
            "name": t.name,
            "rm_enabled": t.rm_enabled,
            "templates": [
                {"id": t.template.id, "name": t.template.name, "subType": 848}
            ],
        }
        for t in OtcsWorkspaceType.objects.select_related("template").order_by("id")
    ]
    return JsonResponse({"businessworkspacetypes": types})


@otcs("GET")
def type_v1(request: HttpRequest, type_id: int, user_id: int) -> HttpResponse:
    """``GET api/v1/businessworkspacetypes/{id}`` (pyxecm get_workspace_type)."""
    wksp_type = OtcsWorkspaceType.objects.filter(id=type_id).first()
    if wksp_type is None:
        # [A] wording and status of an unknown type.
        raise ApiError(400, f"Could not get a workspace type for {type_id}")
    return JsonResponse(
        {
            "icon_url": "",
            "is_policies_enabled": False,
            "workspace_type": wksp_type.name,
        }
    )


def _copy_children(source: OtcsNode, target: OtcsNode, user_id: int) -> None:
    for child in OtcsNode.objects.filter(parent_id=source.id, type__in=CONTAINERS):
        copy = create_node(
            target, child.type, child.name, user_id, description=child.description
        )
        _copy_children(child, copy, user_id)


def _business_object(values: dict[str, Any]) -> tuple[str, str, str] | None:
    keys = [values.get(k) for k in ("ext_system_id", "bo_type", "bo_id")]
    if not any(keys):
        return None
    if not all(keys):
        raise ApiError(400, "ext_system_id, bo_type and bo_id go together.")
    return str(keys[0]), str(keys[1]), str(keys[2])


def _link(workspace: OtcsWorkspace, business_object: tuple[str, str, str]) -> None:
    ext, bo_type, bo_id = business_object
    taken = OtcsWorkspaceReference.objects.filter(
        ext_system_id=ext, bo_type=bo_type, bo_id=bo_id
    ).first()
    if taken is not None and taken.workspace_id == workspace.node_id:
        return
    if taken is not None:
        # [A] Content Server's wording is not public; one workspace per object.
        raise ApiError(
            500,
            f"The business object {ext}/{bo_type}/{bo_id} is already linked "
            f"to business workspace {taken.workspace_id}.",
        )
    OtcsWorkspaceReference.objects.create(
        workspace=workspace, ext_system_id=ext, bo_type=bo_type, bo_id=bo_id
    )


def _create(values: dict[str, Any], user_id: int) -> OtcsNode:
    template_id = integer(require(values, "template_id"), "template_id")
    # [A] without parent_id Content Server uses the type's configured location;
    # here that is the Enterprise Workspace.
    parent = get_node(
        integer(values.get("parent_id") or ENTERPRISE_WORKSPACE, "parent_id")
    )
    wksp_type = OtcsWorkspaceType.objects.filter(template_id=template_id).first()
    if wksp_type is None:
        raise ApiError(400, f"Could not get a workspace template for {template_id}")
    if (
        values.get("wksp_type_id") not in (None, "")
        and integer(values["wksp_type_id"], "wksp_type_id") != wksp_type.id
    ):
        raise ApiError(400, "The template does not belong to the workspace type.")
    if parent.type not in CONTAINERS:
        raise ApiError(400, f"Node {parent.id} is not a container.")
    business_object = _business_object(values)
    # [A] without a name Content Server derives one from the type's name
    # pattern; here it is the business object id, else the template's name.
    name = str(
        values.get("name")
        or (business_object[2] if business_object else wksp_type.template.name)
    )
    try:
        with transaction.atomic():
            node = create_node(
                parent,
                848,
                name,
                user_id,
                description=str(values.get("description") or ""),
            )
            workspace = OtcsWorkspace.objects.create(node=node, wksp_type=wksp_type)
            _copy_children(wksp_type.template, node, user_id)
            roles = values.get("roles") or {}
            if isinstance(roles, dict) and roles.get("categories"):
                categories.apply_roles(node, roles["categories"], nested=True)
            if business_object is not None:
                _link(workspace, business_object)
    except IntegrityError:
        raise ApiError(
            500, f"An item with the name '{name}' already exists in the container."
        ) from None
    return node


def workspace_properties(node: OtcsNode) -> dict[str, Any]:
    """Node properties plus the workspace type (``wnf_wksp_type_id``)."""
    data = properties(node)
    workspace = OtcsWorkspace.objects.filter(node_id=node.id).first()
    if workspace is not None:
        data["wnf_wksp_type_id"] = workspace.wksp_type_id
        data["wnf_wksp_template_id"] = workspace.wksp_type.template_id
    return data


def _results(nodes: list[OtcsNode]) -> list[dict[str, Any]]:
    return [{"data": {"properties": workspace_properties(n)}} for n in nodes]


@otcs("GET", "POST")
def workspaces(request: HttpRequest, user_id: int) -> HttpResponse:
    """Create (``POST``) or find by business object / type / name (``GET``)."""
    if request.method == "POST":
        node = _create(params(request), user_id)
        return JsonResponse(
            {
                "links": links(request),
                "results": {"id": node.id, "direct_open": True, "sub_folder_id": 0},
            }
        )
    query = OtcsWorkspace.objects.select_related("node").order_by("node_id")
    where = request.GET
    refs = OtcsWorkspaceReference.objects.all()
    filtered = False
    for name in ("ext_system_id", "bo_type", "bo_id"):
        if where.get(f"where_{name}"):
            refs = refs.filter(**{name: where[f"where_{name}"]})
            filtered = True
    if filtered:
        query = query.filter(node_id__in=refs.values("workspace_id"))
    if where.get("where_workspace_type_id"):
        wksp_type = integer(where["where_workspace_type_id"], "where_workspace_type_id")
        query = query.filter(wksp_type_id=wksp_type)
    name = where.get("where_name") or ""
    if name.startswith("contains_"):
        query = query.filter(node__name__icontains=name.removeprefix("contains_"))
    elif name:
        query = query.filter(node__name=name)
    return _listing(request, [w.node for w in query])


def _listing(
    request: HttpRequest, nodes: list[OtcsNode], extra: dict[int, str] | None = None
) -> JsonResponse:
    """A page of workspaces; ``paging`` sits at the top level here."""
    page, limit = page_and_limit(request.GET)
    items = nodes[(page - 1) * limit : page * limit]
    results = _results(items)
    for item in results:
        props = item["data"]["properties"]
        if extra is not None:
            props["rel_type"] = extra[props["id"]]
    return JsonResponse(
        {
            "links": links(request),
            "paging": paged(request, items, page, limit, len(nodes)),
            "results": results,
            "wksp_info": {"wksp_type_icon": None},
        }
    )


def _workspace(workspace_id: int) -> OtcsWorkspace:
    get_node(workspace_id)
    workspace = OtcsWorkspace.objects.filter(node_id=workspace_id).first()
    if workspace is None:
        # [A] wording: a node that is not a workspace is a 400.
        raise ApiError(400, f"Node {workspace_id} is not a business workspace.")
    return workspace


@otcs("GET")
def workspace(request: HttpRequest, workspace_id: int, user_id: int) -> HttpResponse:
    """``GET api/v2/businessworkspaces/{id}``."""
    found = _workspace(workspace_id)
    return JsonResponse(
        {
            "links": links(request),
            "results": {
                "data": {"properties": workspace_properties(found.node)},
                "business_properties": {
                    "workspace_type_id": found.wksp_type_id,
                    "workspace_type_name": found.wksp_type.name,
                },
            },
        }
    )


@otcs("GET")
def by_business_object(
    request: HttpRequest, ext: str, bo_type: str, bo_id: str, user_id: int
) -> HttpResponse:
    """``GET api/v2/externalsystems/{ext}/botypes/{type}/boids/{id}``."""
    ref = (
        OtcsWorkspaceReference.objects.filter(
            ext_system_id=ext, bo_type=bo_type, bo_id=bo_id
        )
        .select_related("workspace__node")
        .first()
    )
    if ref is None:
        # [A] an unknown business object answers 404 with an error body.
        raise ApiError(404, f"No business workspace for {ext}/{bo_type}/{bo_id}.")
    # The list shape (paging + results[]), as pyxecm documents it.
    return _listing(request, [ref.workspace.node])


@otcs("PUT")
def references(request: HttpRequest, workspace_id: int, user_id: int) -> HttpResponse:
    """``PUT .../workspacereferences``: link a business object."""
    found = _workspace(workspace_id)
    values = params(request)
    for name in ("ext_system_id", "bo_type", "bo_id"):
        require(values, name)
    business_object = _business_object(values)
    assert business_object is not None
    _link(found, business_object)
    return JsonResponse({"links": links(request), "results": {}})


OPPOSITE = {"child": "parent", "parent": "child"}


def _relations(found: OtcsWorkspace) -> dict[int, str]:
    """Related workspace id -> type as seen from ``found`` (both directions).

    [A] when two workspaces are related both ways, the first type listed wins.
    """
    seen: dict[int, str] = {}
    for relation in OtcsWorkspaceRelation.objects.filter(workspace=found):
        seen.setdefault(relation.related_id, relation.rel_type)
    for relation in OtcsWorkspaceRelation.objects.filter(related=found):
        seen.setdefault(relation.workspace_id, OPPOSITE[relation.rel_type])
    return seen


@otcs("GET", "POST")
def related(request: HttpRequest, workspace_id: int, user_id: int) -> HttpResponse:
    """List (``GET``) or add (``POST`` ``rel_bw_id``, ``rel_type``).

    A relation A -child-> B also shows B -parent-> A, as pyxecm describes.
    """
    found = _workspace(workspace_id)
    if request.method == "POST":
        values = params(request)
        other = _workspace(integer(require(values, "rel_bw_id"), "rel_bw_id"))
        rel_type = str(values.get("rel_type") or "child")
        if rel_type not in REL_TYPES:
            raise ApiError(400, "Invalid value for parameter rel_type.")
        if other.node_id == found.node_id:
            raise ApiError(400, "A workspace cannot be related to itself.")
        # [A] relating twice (either direction) keeps one relation, no error.
        exists = OtcsWorkspaceRelation.objects.filter(
            workspace=other, related=found, rel_type=OPPOSITE[rel_type]
        ).exists()
        if not exists:
            OtcsWorkspaceRelation.objects.get_or_create(
                workspace=found, related=other, rel_type=rel_type
            )
        return JsonResponse({"links": links(request), "results": {}})
    seen = _relations(found)
    wanted = set(REL_TYPES)
    if request.GET.get("where_relationtype"):
        wanted = {request.GET["where_relationtype"]}
    elif request.GET.get("where_rel_types"):
        # pyxecm sends {'parent','child'}
        wanted = {t.strip(" '{}") for t in request.GET["where_rel_types"].split(",")}
    ids = sorted(i for i, kind in seen.items() if kind in wanted)
    nodes = list(OtcsNode.objects.filter(id__in=ids).order_by("id"))
    name = request.GET.get("where_name") or ""
    if name:
        nodes = [n for n in nodes if name.lower() in n.name.lower()]
    return _listing(request, nodes, extra=seen)


@otcs("DELETE")
def related_item(
    request: HttpRequest, workspace_id: int, related_id: int, user_id: int
) -> HttpResponse:
    """``DELETE .../relateditems/{rel_bw_id}?rel_type=child``."""
    found = _workspace(workspace_id)
    rel_type = request.GET.get("rel_type") or "child"
    if rel_type not in REL_TYPES:
        raise ApiError(400, "Invalid value for parameter rel_type.")
    deleted, _ = OtcsWorkspaceRelation.objects.filter(
        workspace=found, related_id=related_id, rel_type=rel_type
    ).delete()
    deleted += OtcsWorkspaceRelation.objects.filter(
        workspace_id=related_id, related=found, rel_type=OPPOSITE[rel_type]
    ).delete()[0]
    if not deleted:
        # [A] wording and status for a relation that does not exist.
        raise ApiError(400, f"Workspace {related_id} is not related as {rel_type}.")
    return JsonResponse({"links": links(request), "results": {}})


@otcs("GET")
def containing(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """``GET api/v1/nodes/{id}/businessworkspace``: walk up to a workspace.

    The answer is flat (pyxecm): ``{id, isLinked, type, workspace_type_id}``;
    a workspace node answers itself.
    """
    node: OtcsNode | None = get_node(node_id)
    while node is not None:
        found = OtcsWorkspace.objects.filter(node_id=node.id).first()
        if found is not None:
            linked = OtcsWorkspaceReference.objects.filter(workspace=found).exists()
            return JsonResponse(
                {
                    "id": node.id,
                    "isLinked": linked,
                    "type": 848,
                    "workspace_type_id": found.wksp_type_id,
                }
            )
        node = node.parent
    # [A] no enclosing workspace: 404 with an error body.
    raise ApiError(404, f"Node {node_id} is not in a business workspace.")
