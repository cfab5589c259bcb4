"""URLs for tests of the Dataverse emulator and connector: only the emulator."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("sandbox/dynamics/", include("connectors.dynamics.emulator"))]
