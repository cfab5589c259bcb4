from __future__ import annotations

from django.urls import path

from audit import views

urlpatterns = [
    path("", views.event_list, name="audit"),
    path("events/<int:sequence>/", views.event_detail, name="audit-event"),
    path("timeline/", views.timeline, name="audit-timeline"),
    path("export.csv", views.export_csv, name="audit-export-csv"),
    path("evidence.zip", views.export_evidence, name="audit-export-evidence"),
]
