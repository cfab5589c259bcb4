"""URLs for tests of the Content Server emulator and connector."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("sandbox/otcs/", include("connectors.otcs.emulator"))]
