"""Workspaces pages, under /workspaces/."""

from __future__ import annotations

from django.urls import path

from workspaces import access, views

urlpatterns = [
    path("", views.workspace_list, name="workspaces"),
    path("<int:pk>/", views.workspace_detail, name="workspace-detail"),
    path("<int:pk>/holds/", views.workspace_hold, name="workspace-hold"),
    path(
        "<int:pk>/holds/<int:hold>/release/",
        views.workspace_release_hold,
        name="workspace-release-hold",
    ),
    path("<int:pk>/sync/", views.workspace_sync, name="workspace-sync"),
    path("documents/", access.document_access, name="workspace-document-access"),
]
