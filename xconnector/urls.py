"""URL map of the whole site."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from xconnector import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    *[path(f"{key}/", views.section, {"key": key}, name=key) for key in views.SECTIONS],
    path("audit/", include("audit.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
]
