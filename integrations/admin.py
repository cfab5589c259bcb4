"""The Django admin's view of flows and runs, for operators."""

from __future__ import annotations

from django.contrib import admin

from integrations.models import (
    Flow,
    FlowRun,
    FlowVersion,
    ReviewTask,
    StepRun,
    Transfer,
    TransferAttempt,
    TriggerState,
)


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "published_version", "max_concurrent_runs"]
    list_filter = ["status"]
    search_fields = ["name"]
    readonly_fields = ["published_version", "hook_token"]


@admin.register(FlowVersion)
class FlowVersionAdmin(admin.ModelAdmin):
    list_display = ["flow", "number", "author", "created_at"]
    readonly_fields = ["flow", "number", "definition", "author", "note"]


class StepRunInline(admin.TabularInline):
    model = StepRun
    extra = 0
    can_delete = False
    fields = ["step_key", "attempt", "status", "error", "duration_ms", "started_at"]
    readonly_fields = fields


@admin.register(FlowRun)
class FlowRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "flow", "status", "trigger_kind", "created_at", "finished_at"]
    list_filter = ["status", "trigger_kind", "flow"]
    search_fields = ["event_id", "source_ref"]
    inlines = [StepRunInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # runs change through services (replay, cancel) only


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    list_display = [
        "source_system",
        "source_id",
        "source_version",
        "status",
        "target_ref",
    ]
    list_filter = ["status"]
    search_fields = ["source_id", "target_ref", "sha256"]


admin.site.register(TransferAttempt)
admin.site.register(ReviewTask)
admin.site.register(TriggerState)
