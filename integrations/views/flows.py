"""Flow pages: the list, and one flow with its steps, versions and runs.

Editing flows is the designer's job (a later page); here one can read a flow
and start a run by hand.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from connectors import registry
from connectors.errors import PermanentError
from connectors.models import Connection
from integrations import flow_templates, services
from integrations.definition import ActionStep, Definition, TriggerDef
from integrations.models import Flow, FlowRun, RunStatus
from integrations.views.runs import (
    STEP_TYPE_LABELS,
    STOPPED,
    decorate,
    parsed_definition,
    with_last_step,
)

CHART_DAYS = 14
SUCCEEDED = (RunStatus.SUCCEEDED,)


def every_text(seconds: int) -> str:
    """ "every minute", "every 5 minutes", "every 2 hours", "every day"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"every {unit}" if count == 1 else f"every {count} {unit}s"
    return f"every {seconds} seconds"


def trigger_text(
    trigger: TriggerDef,
    connections: dict[int, Connection],
    flows: dict[int, Flow],
) -> str:
    """What starts the flow, in words."""
    connection = connections.get(trigger.connection or 0)
    name = connection.name if connection else "a connection that was deleted"
    if trigger.type == "webhook":
        return f"When a webhook arrives at its address, checked by “{name}”"
    if trigger.type == "poll":
        return f"Checks {name} {every_text(trigger.every_seconds or 60)}"
    if trigger.type == "schedule":
        if trigger.cron:
            return f"On a timetable ({trigger.cron})"
        return every_text(trigger.every_seconds or 60).capitalize()
    if trigger.type == "flow_finished":
        followed = flows.get(trigger.flow or 0)
        return f"After “{followed.name if followed else 'a deleted flow'}” finishes"
    if trigger.type == "workspace_complete":
        return f"When a “{trigger.workspace_type}” workspace has every document"
    return "By hand"


def _lookups(
    definitions: list[Definition],
) -> tuple[dict[int, Connection], dict[int, Flow]]:
    """The connections and flows the definitions name, two queries at most."""
    connection_ids: set[int] = set()
    flow_ids: set[int] = set()
    for definition in definitions:
        if definition.trigger.connection is not None:
            connection_ids.add(definition.trigger.connection)
        if definition.trigger.flow is not None:
            flow_ids.add(definition.trigger.flow)
        connection_ids |= {
            step.connection for step in definition.steps if isinstance(step, ActionStep)
        }
    connections = (
        Connection.objects.only("pk", "name", "connector_key").in_bulk(connection_ids)
        if connection_ids
        else {}
    )
    flows = Flow.objects.only("pk", "name").in_bulk(flow_ids) if flow_ids else {}
    return connections, flows


@login_required
@permission_required("integrations.view_flow", raise_exception=True)
def flow_list(request: HttpRequest) -> HttpResponse:
    week = timezone.now() - timedelta(days=7)
    last = FlowRun.objects.filter(flow=OuterRef("pk")).order_by("-created_at", "-pk")
    flows = list(
        Flow.objects.select_related("published_version")
        .annotate(
            runs_week=Count("runs", filter=Q(runs__created_at__gte=week)),
            last_status=Subquery(last.values("status")[:1]),
            last_at=Subquery(last.values("created_at")[:1]),
        )
        .order_by("name")
    )
    definitions = {flow.pk: parsed_definition(flow.published_version) for flow in flows}
    connections, others = _lookups([d for d in definitions.values() if d])
    for flow in flows:
        definition = definitions[flow.pk]
        flow.trigger_text = (
            trigger_text(definition.trigger, connections, others)
            if definition
            else "Not published yet"
        )
        flow.steps_count = len(definition.steps) if definition else 0
        flow.last_status_label = (
            RunStatus(flow.last_status).label if flow.last_status else ""
        )
    return render(request, "integrations/flow_list.html", {"flows": flows})


@login_required
@permission_required("integrations.view_flow", raise_exception=True)
def flow_detail(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_flow(pk)
    return _detail_page(request, flow, payload=flow_templates.sample_payload(flow))


def get_flow(pk: int) -> Flow:
    return get_object_or_404(
        Flow.objects.select_related("published_version__author", "owner"), pk=pk
    )


def _detail_page(
    request: HttpRequest,
    flow: Flow,
    *,
    payload: str = "{}",
    payload_error: str = "",
) -> HttpResponse:
    version = flow.published_version
    definition = parsed_definition(version)
    connections, others = _lookups([definition] if definition else [])
    steps = []
    for number, step in enumerate(definition.steps if definition else [], start=1):
        item: dict[str, Any] = {
            "number": number,
            "key": step.key,
            "label": step.label,
            "type": STEP_TYPE_LABELS.get(step.type, step.type),
        }
        if isinstance(step, ActionStep):
            connection = connections.get(step.connection)
            item["connection"] = connection.name if connection else "(deleted)"
            item["action"] = _action_label(connection, step.action)
        steps.append(item)
    trigger = definition.trigger if definition else None
    hook_connection = (
        connections.get(trigger.connection or 0)
        if trigger and trigger.type == "webhook"
        else None
    )
    recent = [
        decorate(run)
        for run in with_last_step(flow.runs.select_related("version")).order_by(
            "-created_at", "-pk"
        )[:20]
    ]
    return render(
        request,
        "integrations/flow_detail.html",
        {
            "flow": flow,
            "version": version,
            "trigger": trigger,
            "trigger_text": trigger_text(trigger, connections, others)
            if trigger
            else "",
            "hook_url": request.build_absolute_uri(
                reverse("flow-webhook-receive", args=[flow.hook_token])
            )
            if trigger and trigger.type == "webhook"
            else "",
            "hook_connection": hook_connection,
            "steps": steps,
            "versions": flow.versions.select_related("author").order_by("-number"),
            "recent": recent,
            "chart": _chart(flow),
            "can_start": version is not None
            and request.user.has_perm("integrations.start_flowrun"),
            "payload": payload,
            "payload_error": payload_error,
        },
    )


def _action_label(connection: Connection | None, action: str) -> str:
    if connection is None:
        return action
    try:
        spec = registry.get_connector(connection.connector_key).actions.get(action)
    except PermanentError:
        return action
    return spec.label if spec else action


def _chart(flow: Flow) -> dict[str, Any]:
    """Runs per day for the last two weeks, split by how they ended.

    Bar heights are classes (``xc-h-0`` … ``xc-h-10``, tenths of the busiest
    day): the Content Security Policy allows no style attribute.
    """
    today = timezone.localdate()
    first = today - timedelta(days=CHART_DAYS - 1)
    rows = (
        flow.runs.filter(
            created_at__date__gte=first,
        )
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    days = {first + timedelta(days=i): [0, 0, 0] for i in range(CHART_DAYS)}
    for day, status, n in rows:
        if day not in days:
            continue
        slot = 0 if status in SUCCEEDED else 1 if status in STOPPED else 2
        days[day][slot] += n
    busiest = max((sum(v) for v in days.values()), default=0) or 1

    def tenth(n: int) -> int:
        return 0 if n == 0 else max(1, round(10 * n / busiest))

    bars = [
        {
            "day": day,
            "succeeded": ok,
            "stopped": stopped,
            "other": other,
            "total": ok + stopped + other,
            "h_succeeded": tenth(ok),
            "h_stopped": tenth(stopped),
            "h_other": tenth(other),
        }
        for day, (ok, stopped, other) in days.items()
    ]
    return {"bars": bars, "total": sum(b["total"] for b in bars)}


@login_required
@permission_required("integrations.start_flowrun", raise_exception=True)
@require_POST
def flow_start(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_flow(pk)
    text = request.POST.get("payload", "")
    try:
        payload = json.loads(text.strip() or "{}")
    except json.JSONDecodeError as error:
        return _detail_page(
            request,
            flow,
            payload=text,
            payload_error=f"This is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno}).",
        )
    if not isinstance(payload, dict):
        return _detail_page(
            request,
            flow,
            payload=text,
            payload_error="The data must be a JSON object: start with { and end "
            'with }, for example {"order": "A-1042"}.',
        )
    try:
        run, _ = services.start_run(flow, payload, request.user)
    except PermissionDenied:
        messages.error(request, "You are not allowed to start runs.")
        return redirect("flow-detail", pk=flow.pk)
    except services.InvalidDefinition as error:
        messages.error(request, " ".join(error.problems))
        return redirect("flow-detail", pk=flow.pk)
    messages.success(request, f"Run {run.pk} started. This page shows how it goes.")
    return redirect("run-detail", pk=run.pk)
