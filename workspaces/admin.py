"""Workspace types and their checklists are configured in the admin."""

from __future__ import annotations

from django.contrib import admin

from workspaces.models import DocumentRequirement, Workspace, WorkspaceType


class RequirementInline(admin.TabularInline):
    model = DocumentRequirement
    extra = 1


@admin.register(WorkspaceType)
class WorkspaceTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "connection", "ext_system_id", "bo_type")
    inlines = [RequirementInline]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace_type", "business_key", "ecm_node_id")
    search_fields = ("business_key", "name")
    list_filter = ("workspace_type",)
    readonly_fields = ("ecm_node_id", "completed_at")
