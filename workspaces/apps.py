from __future__ import annotations

from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    """Business workspaces, document checklists and metadata sync rules."""

    name = "workspaces"
    verbose_name = "Workspaces"
