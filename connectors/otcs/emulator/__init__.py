"""An emulated OpenText Content Server REST API (/sandbox/otcs/api/...).

Follows /work/shared/EXTERNAL_APIS.md section 1: tickets, nodes, versions,
categories and search, with Content Server's status codes and error bodies.
The emulator-only extension ``api/v1/_sandbox/faults`` injects failures.
The sandbox credentials (``admin`` / ``sandbox-admin``) are public demo
values, not secrets. Business workspaces, records management, holds and
workflows are not emulated yet.
"""

from __future__ import annotations

from django.urls import path, re_path

from connectors.otcs.emulator import auth, categories, nodes, search, versions

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
]
