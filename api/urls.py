"""/api/v1/ (the operations), /api/schema/ (OpenAPI 3) and /api/docs/."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api.errors import not_found
from api.views import audit, connections, flows, runs, tasks, tokens, workspaces

app_name = "api"
router = DefaultRouter()
router.include_root_view = False
router.register("tokens", tokens.TokenViewSet, basename="token")
router.register("connectors", connections.ConnectorViewSet, basename="connector")
router.register("connections", connections.ConnectionViewSet, basename="connection")
for module in (flows, runs, tasks, workspaces, audit):
    module.register(router)

urlpatterns = [
    path("v1/", include(router.urls)),
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", permission_classes=[], authentication_classes=[]
        ),
        name="docs",
    ),
    re_path(r"^[\s\S]*$", not_found),
]
