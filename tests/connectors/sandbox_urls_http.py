"""URLs for tests of the REST API connector: only its emulator."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("sandbox/http/", include("connectors.http.emulator"))]
