"""URL map of the whole site."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from api import pages as api_pages
from connectors.webhook.views import receive_hook
from integrations import urls as integrations_urls
from integrations.views.hooks import receive_flow_hook_view
from xconnector import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("connections/", include("connectors.urls")),
    path("flows/", include(integrations_urls.flow_urls)),
    path("runs/", include(integrations_urls.run_urls)),
    path("tasks/", include("integrations.urls_tasks")),
    path("workspaces/", include("workspaces.urls")),
    path("hooks/<int:connection_id>/", receive_hook, name="webhook-receive"),
    path(
        "hooks/flows/<str:token>/", receive_flow_hook_view, name="flow-webhook-receive"
    ),
    path("audit/", include("audit.urls")),
    path("account/tokens/", api_pages.tokens, name="api-tokens"),
    path("api/", include("api.urls", namespace="api")),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
]

if settings.XCONNECTOR_SANDBOX:
    urlpatterns.append(path("sandbox/", include("connectors.sandbox_urls")))
