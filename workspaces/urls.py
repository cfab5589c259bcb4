"""Workspaces pages, under /workspaces/."""

from __future__ import annotations

from django.urls import path

from workspaces import views

urlpatterns = [
    path("", views.workspace_list, name="workspaces"),
    path("<int:pk>/", views.workspace_detail, name="workspace-detail"),
]
