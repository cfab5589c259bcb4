"""Platform pages: sign-in, dashboard, section landing pages, health, metrics."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit import services as audit
from connectors.models import Connection, ConnectionStatus
from xconnector import dashboard as figures
from xconnector import health, metrics


class LoginView(auth_views.LoginView):
    """Sign-in; each success and failure is an audit event."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    extra_context = {"failure_limit": settings.AXES_FAILURE_LIMIT}

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(
            audit.EventType.LOGIN,
            audit.Actor.user(form.get_user()),
            summary=f"{form.get_user().get_username()} signed in",
        )
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        attempted = str(form.data.get("username", ""))[:150]
        audit.record(
            audit.EventType.LOGIN_FAILED,
            audit.Actor.system("sign-in"),
            summary=f"Failed sign-in as “{attempted}”",
            payload={"username": attempted},
        )
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """Signs out on POST (a link could be forged by another site)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            audit.record(
                audit.EventType.LOGOUT,
                audit.Actor.user(request.user),
                summary=f"{request.user.get_username()} signed out",
            )
        return super().post(request, *args, **kwargs)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user, now = request.user, timezone.now()
    context: dict[str, Any] = {
        "health": health.snapshot(),
        "connections": _connection_summary(request),
        "chart_height": figures.CHART_HEIGHT,
    }
    if user.has_perm("integrations.view_flowrun"):
        context["runs"] = figures.runs_per_day(now)
        context["documents"] = figures.documents_per_day(now)
        context["failures"] = figures.failures_per_system(now)
    if user.has_perm("integrations.view_reviewtask"):
        context["tasks"] = figures.tasks_per_queue(now)
    if user.has_perm("audit.view_auditevent"):
        context["verification"] = figures.last_verification()
    return render(request, "dashboard.html", context)


def _connection_summary(request: HttpRequest) -> dict[str, object] | None:
    """How many connections work, fail or were never tested; the failing
    ones by name, so a broken credential is seen before a run needs it."""
    if not request.user.has_perm("connectors.view_connection"):
        return None
    counts = dict(
        Connection.objects.values_list("status").annotate(n=Count("id")).order_by()
    )
    return {
        "total": sum(counts.values()),
        "healthy": counts.get(ConnectionStatus.HEALTHY, 0),
        "failing": counts.get(ConnectionStatus.FAILING, 0),
        "untested": counts.get(ConnectionStatus.UNTESTED, 0),
        "failing_list": list(
            Connection.objects.filter(status=ConnectionStatus.FAILING).order_by("name")[
                :5
            ]
        ),
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for load balancers: 200 unless the database or
    the broker is down. A silent worker is reported as ``degraded``."""
    data = health.snapshot()
    return JsonResponse(data, status=503 if data["status"] == "down" else 200)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; behind a bearer token when one is configured."""
    token = settings.XCONNECTOR_METRICS_TOKEN
    if token:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(supplied.encode(), token.encode()):
            return HttpResponse("A valid metrics token is required.\n", status=401)
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A page a business user understands instead of Django's 403 text."""
    return render(request, "errors/csrf.html", status=403)
