"""URLs for tests of the Trading Grid emulator and connector: only its own
emulator, so the tests do not depend on the other sandboxes."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("sandbox/tradinggrid/", include("connectors.tradinggrid.emulator"))]
