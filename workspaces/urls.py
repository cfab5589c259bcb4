"""Workspaces pages, under /workspaces/."""

from __future__ import annotations

from django.urls import path

from workspaces import access, views

urlpatterns = [
    path("", views.workspace_list, name="workspaces"),
    path("<int:pk>/", views.workspace_detail, name="workspace-detail"),
    path("<int:pk>/holds/", views.workspace_hold, name="workspace-hold"),
    path("documents/", access.document_access, name="workspace-document-access"),
]
