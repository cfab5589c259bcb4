"""The flow and run pages (the flow designer comes later)."""

from __future__ import annotations

from django.urls import path

from integrations.views import designer, flows, gallery, runs, versions

flow_urls = [
    path("", flows.flow_list, name="flows"),
    path("templates/", gallery.template_gallery, name="flow-templates"),
    path("templates/<slug:key>/", gallery.template_use, name="flow-template-use"),
    path("<int:pk>/", flows.flow_detail, name="flow-detail"),
    path("<int:pk>/run/", flows.flow_start, name="flow-start"),
    path("<int:pk>/versions/", versions.flow_compare, name="flow-compare"),
    path(
        "<int:pk>/versions/<int:number>/restore/",
        versions.flow_restore,
        name="flow-restore",
    ),
    path("<int:pk>/export/", versions.flow_export, name="flow-export"),
    path("import/", versions.flow_import, name="flow-import"),
    path("<int:pk>/design/", designer.flow_design, name="flow-design"),
    path("<int:pk>/design/add/", designer.design_add, name="flow-design-add"),
    path("<int:pk>/design/undo/", designer.design_undo, name="flow-design-undo"),
    path(
        "<int:pk>/design/discard/", designer.design_discard, name="flow-design-discard"
    ),
    path(
        "<int:pk>/design/trigger/", designer.design_trigger, name="flow-design-trigger"
    ),
    path(
        "<int:pk>/design/publish/", designer.design_publish, name="flow-design-publish"
    ),
    path(
        "<int:pk>/design/steps/<slug:key>/",
        designer.design_step,
        name="flow-design-step",
    ),
    path(
        "<int:pk>/design/steps/<slug:key>/preview/",
        designer.design_preview,
        name="flow-design-preview",
    ),
    path(
        "<int:pk>/design/steps/<slug:key>/test/",
        designer.design_test,
        name="flow-design-test",
    ),
    path(
        "<int:pk>/design/steps/<slug:key>/move/",
        designer.design_move,
        name="flow-design-move",
    ),
    path(
        "<int:pk>/design/steps/<slug:key>/delete/",
        designer.design_delete,
        name="flow-design-delete",
    ),
]

run_urls = [
    path("", runs.run_list, name="runs"),
    path("<int:pk>/", runs.run_detail, name="run-detail"),
    path("<int:pk>/replay/", runs.run_replay, name="run-replay"),
    path("<int:pk>/cancel/", runs.run_cancel, name="run-cancel"),
    path(
        "<int:pk>/tasks/<int:task_pk>/decide/",
        runs.task_decide,
        name="run-task-decide",
    ),
]
