"""Workspace types, their checklists and their metadata sync rules are
configured in the admin."""

from __future__ import annotations

from django.contrib import admin

from workspaces.models import (
    DocumentRequirement,
    SyncConflict,
    SyncRule,
    Workspace,
    WorkspaceType,
)


class RequirementInline(admin.TabularInline):
    model = DocumentRequirement
    extra = 1


class SyncRuleInline(admin.TabularInline):
    model = SyncRule
    extra = 0


@admin.register(WorkspaceType)
class WorkspaceTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "connection", "ext_system_id", "bo_type")
    inlines = [RequirementInline, SyncRuleInline]


@admin.register(SyncConflict)
class SyncConflictAdmin(admin.ModelAdmin):
    """Read only: conflicts are settled on their task, by a reviewer."""

    list_display = ("workspace", "rule", "status", "by_rule", "detected_at")
    list_filter = ("status", "by_rule")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace_type", "business_key", "ecm_node_id")
    search_fields = ("business_key", "name")
    list_filter = ("workspace_type",)
    readonly_fields = ("ecm_node_id", "completed_at")
