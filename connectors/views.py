"""Connection pages: list, connector catalog, create/edit form, test, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import Actor
from connectors import registry, services
from connectors.base import CATEGORIES, Connector
from connectors.errors import PermanentError
from connectors.forms import ConnectionForm, initial_from_settings
from connectors.models import Connection


def _connector(key: str) -> type[Connector]:
    try:
        return registry.get_connector(key)
    except PermanentError:
        raise Http404(f"No connector “{key}” is installed.") from None


@login_required
@permission_required("connectors.view_connection", raise_exception=True)
def connection_list(request: HttpRequest) -> HttpResponse:
    # Flows whose versions use a connection (the relation is declared by the
    # flow engine's models); such a connection cannot be deleted.
    connections = list(
        Connection.objects.select_related("updated_by").annotate(
            flows_using=Count("flow_versions__flow", distinct=True)
        )
    )
    available = registry.connectors()
    for connection in connections:
        connection.connector_info = available.get(connection.connector_key)
    return render(
        request,
        "connectors/connection_list.html",
        {
            "connections": connections,
            "can_change": request.user.has_perm("connectors.add_connection"),
        },
    )


@login_required
@permission_required("connectors.add_connection", raise_exception=True)
def catalog(request: HttpRequest) -> HttpResponse:
    """The connectors one can add, grouped by category, with a search."""
    query = request.GET.get("q", "").strip().lower()
    groups: dict[str, list[type[Connector]]] = {}
    for connector in registry.connectors().values():
        text = f"{connector.label} {connector.description} {connector.key}".lower()
        if query and query not in text:
            continue
        groups.setdefault(connector.category, []).append(connector)
    context = {
        "groups": [(CATEGORIES[c], groups[c]) for c in CATEGORIES if c in groups],
        "query": request.GET.get("q", ""),
    }
    template = "connectors/catalog.html"
    if request.htmx:
        template += "#cards"
    return render(request, template, context)


@login_required
@permission_required("connectors.add_connection", raise_exception=True)
@require_http_methods(["GET", "POST"])
def connection_create(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("connector") or request.GET.get("connector", "")
    connector = _connector(key)
    if request.htmx and request.method == "POST":
        form = ConnectionForm(
            connector.Config, initial=request.POST.dict(), rerender=True
        )
        return _form_page(request, connector, form, None)
    form = ConnectionForm(
        connector.Config, request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        settings, secrets = form.config_data()
        try:
            connection = services.create_connection(
                Actor.user(request.user),
                connector_key=connector.key,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                settings=settings,
                secrets=secrets,
                user=request.user,
            )
        except services.InvalidSettings as error:
            form.add_config_errors(error.errors)
        else:
            messages.success(
                request,
                f"“{connection.name}” was saved. Test it to see that it works.",
            )
            return redirect("connection-detail", pk=connection.pk)
    return _form_page(request, connector, form, None)


@login_required
@permission_required("connectors.view_connection", raise_exception=True)
@require_http_methods(["GET", "POST"])
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    connector = _connector(connection.connector_key)
    if request.method == "POST":
        if not request.user.has_perm("connectors.change_connection"):
            return HttpResponse(status=403)
        if request.htmx:
            form = ConnectionForm(
                connector.Config,
                initial=request.POST.dict(),
                secrets_set_at=connection.secrets_set_at,
                rerender=True,
            )
            return _form_page(request, connector, form, connection)
        form = ConnectionForm(
            connector.Config, request.POST, secrets_set_at=connection.secrets_set_at
        )
        if form.is_valid():
            settings, secrets = form.config_data()
            try:
                services.update_connection(
                    Actor.user(request.user),
                    connection,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    settings=settings,
                    new_secrets=secrets,
                    user=request.user,
                )
            except services.InvalidSettings as error:
                form.add_config_errors(error.errors)
            else:
                messages.success(request, f"“{form.cleaned_data['name']}” was saved.")
                return redirect("connection-detail", pk=connection.pk)
    else:
        form = ConnectionForm(
            connector.Config,
            initial={
                "name": connection.name,
                "description": connection.description,
                **initial_from_settings(connector.Config, connection.settings),
            },
            secrets_set_at=connection.secrets_set_at,
        )
    return _form_page(request, connector, form, connection)


def _form_page(
    request: HttpRequest,
    connector: type[Connector],
    form: ConnectionForm,
    connection: Connection | None,
) -> HttpResponse:
    form_url = (
        reverse("connection-detail", args=[connection.pk])
        if connection
        else f"{reverse('connection-create')}?connector={connector.key}"
    )
    context: dict[str, Any] = {
        "form_url": form_url,
        "connector": connector,
        "form": form,
        "connection": connection,
        "can_change": request.user.has_perm(
            "connectors.change_connection"
            if connection
            else "connectors.add_connection"
        ),
        "deliveries": connection.deliveries.all()[:10]
        if connection and connector.key == "webhook"
        else None,
    }
    template = "connectors/connection_form.html"
    if request.htmx:
        template += "#settings"
    return render(request, template, context)


@login_required
@permission_required("connectors.change_connection", raise_exception=True)
@require_POST
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    outcome = services.check_connection(connection)
    return render(
        request,
        "connectors/_status.html",
        {"connection": connection, "outcome": outcome},
    )


@login_required
@permission_required("connectors.delete_connection", raise_exception=True)
@require_POST
def connection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    name = connection.name
    try:
        services.delete_connection(Actor.user(request.user), connection)
    except services.ConnectionInUse as error:
        messages.error(request, str(error))
        return redirect("connection-detail", pk=pk)
    messages.success(request, f"“{name}” was deleted.")
    return redirect("connections")
