"""Business workspace actions of the Content Server connector.

The calls are the ones OpenText's pyxecm sends (``/work/shared/EXTERNAL_APIS.md``
section 1, "Business Workspaces"). Assumptions:

- **Idempotent create.** A business object has at most one workspace, so the
  business object itself is the idempotency key: the workspace is looked up
  by ``ext_system_id``/``bo_type``/``bo_id`` first and created only when
  there is none. If a crashed attempt (or a concurrent run) created it in
  between, Content Server refuses the second one (500) and the lookup is
  repeated, so a retry returns the same workspace with ``created`` false.
- Relating twice is avoided by reading the related items first.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.base import ActionContext, action
from connectors.errors import ConnectorError, PermanentError
from connectors.otcs.client import ContentServerClient
from connectors.otcs.schemas import (
    FindOrCreateWorkspaceIn,
    FindOrCreateWorkspaceOut,
    LinkWorkspaceReferenceIn,
    LinkWorkspaceReferenceOut,
    RelateWorkspacesIn,
    RelateWorkspacesOut,
)


def find_workspace(
    client: ContentServerClient, ext_system_id: str, bo_type: str, bo_id: str
) -> dict[str, Any] | None:
    """The properties of a business object's workspace, or None."""
    payload = client.call(
        "GET",
        "v2/businessworkspaces",
        params={
            "where_ext_system_id": ext_system_id,
            "where_bo_type": bo_type,
            "where_bo_id": bo_id,
            "expanded_view": "true",
        },
    )
    results = payload.get("results") or []
    return results[0]["data"]["properties"] if results else None


def _workspace_type(
    client: ContentServerClient, data: FindOrCreateWorkspaceIn
) -> dict[str, Any]:
    """The workspace type asked for (id or name), else the one of the BO type."""
    query: dict[str, Any] = {"expand_templates": "true"}
    wanted = str(data.workspace_type).strip()
    if not wanted:
        query.update(ext_system_id=data.ext_system_id, bo_type=data.bo_type)
    payload = client.call("GET", "v2/businessworkspacetypes", params=query)
    types = [item["data"]["properties"] for item in payload.get("results") or []]
    for found in types:
        if (
            not wanted
            or str(found.get("wksp_type_id")) == wanted
            or str(found.get("wksp_type_name") or "").lower() == wanted.lower()
        ):
            return found
    what = f"“{wanted}”" if wanted else f"{data.ext_system_id}/{data.bo_type}"
    raise PermanentError(
        f"Content Server has no business workspace type {what}: check the "
        "workspace type (id or name) or the business object type."
    )


def _template_id(wksp_type: dict[str, Any], asked: int | None) -> int:
    templates = [int(t["id"]) for t in wksp_type.get("templates") or []]
    if asked is not None:
        if asked not in templates:
            raise PermanentError(
                f"Template {asked} does not belong to the workspace type "
                f"“{wksp_type.get('wksp_type_name')}”: use one of {templates}."
            )
        return asked
    if not templates:
        raise PermanentError(
            f"The workspace type “{wksp_type.get('wksp_type_name')}” has no template."
        )
    return templates[0]


def _nested(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Flat ``{cat}_{attr}`` keys grouped by category, as ``roles.categories``."""
    nested: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        nested.setdefault(key.split("_", 1)[0], {})[key] = value
    return nested


def find_or_create(
    client: ContentServerClient, data: FindOrCreateWorkspaceIn
) -> FindOrCreateWorkspaceOut:
    """The business object's workspace, created from the type's template if none."""
    existing = find_workspace(client, data.ext_system_id, data.bo_type, data.bo_id)
    if existing is not None:
        return _out(existing, created=False)
    wksp_type = _workspace_type(client, data)
    spec: dict[str, Any] = {
        "template_id": str(_template_id(wksp_type, data.template_id)),
        "wksp_type_id": str(wksp_type["wksp_type_id"]),
        "type": "848",
        "name": data.name,
        "description": data.description,
        "roles": {"categories": _nested(data.categories)} if data.categories else {},
        "ext_system_id": data.ext_system_id,
        "bo_type": data.bo_type,
        "bo_id": data.bo_id,
    }
    if data.parent_id is not None:
        spec["parent_id"] = data.parent_id
    try:
        payload = client.call(
            "POST",
            "v2/businessworkspaces",
            node_id=data.parent_id,
            data={"body": json.dumps(spec)},
        )
    except ConnectorError as error:
        # A concurrent or crashed attempt created it meanwhile.
        existing = find_workspace(client, data.ext_system_id, data.bo_type, data.bo_id)
        if existing is None:
            raise error from None
        return _out(existing, created=False)
    workspace_id = int(payload["results"]["id"])
    return FindOrCreateWorkspaceOut(
        workspace_id=workspace_id,
        created=True,
        name=data.name,
        workspace_type_id=int(wksp_type["wksp_type_id"]),
    )


def _out(properties: dict[str, Any], *, created: bool) -> FindOrCreateWorkspaceOut:
    type_id = properties.get("wnf_wksp_type_id")
    return FindOrCreateWorkspaceOut(
        workspace_id=int(properties["id"]),
        created=created,
        name=str(properties.get("name") or ""),
        workspace_type_id=int(type_id) if type_id is not None else None,
    )


def link_reference(
    client: ContentServerClient, data: LinkWorkspaceReferenceIn
) -> LinkWorkspaceReferenceOut:
    """Link a business object to an existing workspace (a repeat is harmless)."""
    current = find_workspace(client, data.ext_system_id, data.bo_type, data.bo_id)
    if current is None or int(current["id"]) != data.workspace_id:
        client.call(
            "PUT",
            f"v2/businessworkspaces/{data.workspace_id}/workspacereferences",
            node_id=data.workspace_id,
            data={
                "ext_system_id": data.ext_system_id,
                "bo_type": data.bo_type,
                "bo_id": data.bo_id,
            },
        )
    return LinkWorkspaceReferenceOut(**data.model_dump())


def relate(
    client: ContentServerClient, data: RelateWorkspacesIn
) -> RelateWorkspacesOut:
    """Relate two workspaces unless they already are, in that direction."""
    payload = client.call(
        "GET",
        f"v2/businessworkspaces/{data.workspace_id}/relateditems",
        node_id=data.workspace_id,
        params={"where_relationtype": data.rel_type, "limit": 500},
    )
    related = {
        int(item["data"]["properties"]["id"]) for item in payload.get("results") or []
    }
    created = data.related_workspace_id not in related
    if created:
        client.call(
            "POST",
            f"v2/businessworkspaces/{data.workspace_id}/relateditems",
            node_id=data.related_workspace_id,
            data={
                "rel_bw_id": str(data.related_workspace_id),
                "rel_type": data.rel_type,
            },
        )
    return RelateWorkspacesOut(**data.model_dump(), created=created)


class WorkspaceActions:
    """The business workspace actions, mixed into the Content Server connector."""

    client: ContentServerClient

    @action(
        "find_or_create_workspace",
        "Find or create a business workspace",
        description="The workspace of a business object; created from its "
        "type's template when there is none yet.",
        input=FindOrCreateWorkspaceIn,
        output=FindOrCreateWorkspaceOut,
    )
    def find_or_create_workspace(
        self, data: FindOrCreateWorkspaceIn, context: ActionContext
    ) -> FindOrCreateWorkspaceOut:
        return find_or_create(self.client, data)

    @action(
        "link_workspace_reference",
        "Link a business object to a workspace",
        description="Connect another business object to an existing workspace.",
        input=LinkWorkspaceReferenceIn,
        output=LinkWorkspaceReferenceOut,
    )
    def link_workspace_reference(
        self, data: LinkWorkspaceReferenceIn, context: ActionContext
    ) -> LinkWorkspaceReferenceOut:
        return link_reference(self.client, data)

    @action(
        "relate_workspaces",
        "Relate two workspaces",
        description="Make a workspace a child (or parent) of another one.",
        input=RelateWorkspacesIn,
        output=RelateWorkspacesOut,
    )
    def relate_workspaces(
        self, data: RelateWorkspacesIn, context: ActionContext
    ) -> RelateWorkspacesOut:
        return relate(self.client, data)
