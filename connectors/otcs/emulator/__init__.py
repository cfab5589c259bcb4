"""An emulated OpenText Content Server REST API (/sandbox/otcs/api/...).

Follows /work/shared/EXTERNAL_APIS.md section 1: tickets, nodes, versions,
categories and search, with Content Server's status codes and error bodies.
The emulator-only extension ``api/v1/_sandbox/faults`` injects failures.
The sandbox credentials (``admin`` / ``sandbox-admin``) are public demo
values, not secrets. Business workspaces (``workspaces``) and records
management with holds (``records``) follow the requests OpenText's pyxecm
sends; so do workflows (``workflow``: draft processes, processes, status).
"""

from __future__ import annotations

from django.urls import path, re_path

from connectors.otcs.emulator import (
    auth,
    categories,
    nodes,
    records,
    search,
    versions,
    workflow,
    workspaces,
)

app_name = "sandbox_otcs"

urlpatterns = [
    path("api/v1/auth", auth.auth, name="auth"),
    path("api/v1/ping", auth.ping, name="ping"),
    path("api/v1/serverinfo", auth.serverinfo, name="serverinfo"),
    path("api/v1/_sandbox/faults", auth.faults, name="faults"),
    path("api/v1/nodes", nodes.create_v1, name="nodes-v1"),
    path("api/v1/nodes/<int:node_id>", nodes.node_v1, name="node-v1"),
    path("api/v1/nodes/<int:node_id>/content", versions.content, name="content-v1"),
    path(
        "api/v1/nodes/<int:node_id>/versions/latest",
        versions.latest,
        name="version-latest-v1",
    ),
    path(
        "api/v1/nodes/<int:node_id>/versions/<int:number>/content",
        versions.version_content,
        name="version-content-v1",
    ),
    path("api/v2/nodes", nodes.create_v2, name="nodes"),
    path("api/v2/nodes/<int:node_id>", nodes.node_v2, name="node"),
    path("api/v2/nodes/<int:node_id>/nodes", nodes.children, name="children"),
    path("api/v2/nodes/<int:node_id>/versions", versions.versions, name="versions"),
    path("api/v2/nodes/<int:node_id>/content", versions.content, name="content"),
    path(
        "api/v2/nodes/<int:node_id>/versions/<int:number>/content",
        versions.version_content,
        name="version-content",
    ),
    path(
        "api/v2/nodes/<int:node_id>/categories",
        categories.node_categories,
        name="categories",
    ),
    re_path(
        r"^api/v2/nodes/(?P<node_id>[0-9]+)/categories/(?P<category_id>[0-9]+)/?$",
        categories.node_category,
        name="category",
    ),
    path("api/v2/search", search.search, name="search"),
    path("api/v2/businessworkspacetypes", workspaces.types_v2, name="workspace-types"),
    path(
        "api/v1/businessworkspacetypes/<int:type_id>",
        workspaces.type_v1,
        name="workspace-type-v1",
    ),
    path(
        "api/v1/nodes/<int:node_id>/businessworkspacetypes",
        workspaces.types_v1,
        name="workspace-types-v1",
    ),
    path(
        "api/v1/nodes/<int:node_id>/businessworkspace",
        workspaces.containing,
        name="containing-workspace",
    ),
    path("api/v2/businessworkspaces", workspaces.workspaces, name="workspaces"),
    path(
        "api/v2/businessworkspaces/<int:workspace_id>",
        workspaces.workspace,
        name="workspace",
    ),
    path(
        "api/v2/businessworkspaces/<int:workspace_id>/workspacereferences",
        workspaces.references,
        name="workspace-references",
    ),
    path(
        "api/v2/businessworkspaces/<int:workspace_id>/relateditems",
        workspaces.related,
        name="related-items",
    ),
    path(
        "api/v2/businessworkspaces/<int:workspace_id>/relateditems/<int:related_id>",
        workspaces.related_item,
        name="related-item",
    ),
    path(
        "api/v2/externalsystems/<str:ext>/botypes/<str:bo_type>/boids/<str:bo_id>",
        workspaces.by_business_object,
        name="business-object",
    ),
    path(
        "api/v1/nodes/<int:node_id>/rmclassifications",
        records.classifications,
        name="rm-classifications",
    ),
    path(
        "api/v1/nodes/<int:node_id>/rmclassifications/<int:class_id>",
        records.classification,
        name="rm-classification",
    ),
    path("api/v1/holds", records.holds, name="holds"),
    path("api/v1/holds/<int:hold_id>", records.hold, name="hold"),
    path("api/v2/holds", records.holds_v2, name="holds-v2"),
    path("api/v2/hold", records.hold_by_name, name="hold-by-name"),
    path("api/v1/nodes/<int:node_id>/holds", records.node_holds, name="node-holds"),
    path(
        "api/v1/nodes/<int:node_id>/holds/<int:hold_id>",
        records.node_hold,
        name="node-hold",
    ),
    path("api/v2/draftprocesses", workflow.draft_processes, name="draft-processes"),
    path(
        "api/v2/draftprocesses/<int:draftprocess_id>",
        workflow.draft_process,
        name="draft-process",
    ),
    path(
        "api/v1/forms/draftprocesses/update",
        workflow.draft_form,
        name="draft-process-form",
    ),
    path("api/v2/processes", workflow.processes, name="processes"),
    path(
        "api/v2/processes/<int:process_id>/status",
        workflow.process_status_change,
        name="process-status",
    ),
    path("api/v2/workflows/status", workflow.statuses, name="workflow-statuses"),
    path(
        "api/v2/workflows/status/processes/<int:process_id>",
        workflow.process_status,
        name="workflow-status",
    ),
]
