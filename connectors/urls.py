from __future__ import annotations

from django.urls import path

from connectors import views

urlpatterns = [
    path("", views.connection_list, name="connections"),
    path("new/", views.catalog, name="connection-catalog"),
    path("new/settings/", views.connection_create, name="connection-create"),
    path("<int:pk>/", views.connection_detail, name="connection-detail"),
    path("<int:pk>/test/", views.connection_test, name="connection-test"),
    path("<int:pk>/delete/", views.connection_delete, name="connection-delete"),
]
