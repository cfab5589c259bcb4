"""The flow designer: the flow drawn as connected steps, a side panel to
configure the selected step (with the mapping editor and its live preview),
a searchable catalog to add steps, undo, and publishing with a note.

Every form works without script (post, then back to the page); htmx swaps
only the designer (``#designer``) so that the page does not jump, and the
step form saves on every change (the draft, never the running version).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from connectors.models import Connection
from integrations import services
from integrations.designer import catalog, drafts, layout, testing
from integrations.flow_templates.base import TRIGGER_LABELS
from integrations.models import Flow, StepTest

SETTINGS_HIDDEN = {"key", "type", "name", "connection", "action", "mapping", "document"}
TYPE_LABELS = {
    "action": "Action",
    "condition": "Condition",
    "router": "Router",
    "approval": "Approval",
    "reconcile": "Reconciliation",
    "wait": "Wait",
    "set": "Variables",
    "lookup": "Lookup",
    "workspace": "Workspace",
    "file": "File into workspace",
    "sync": "Metadata sync",
}


def _flow(pk: int) -> Flow:
    return get_object_or_404(
        Flow.objects.select_related("published_version", "draft_updated_by"), pk=pk
    )


def _back(flow: Flow, step: str = "", **query: str) -> HttpResponse:
    url = reverse("flow-design", args=[flow.pk])
    params = {"step": step, **query} if step else query
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items() if v)
    return redirect(url)


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
def flow_design(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    definition = drafts.draft_of(flow)
    return _page(request, flow, definition)


def _page(
    request: HttpRequest, flow: Flow, definition: dict[str, Any], status: int = 200
) -> HttpResponse:
    steps = definition.get("steps") or []
    connections = {c.pk: c for c in Connection.objects.order_by("name")}
    systems = {}
    for step in steps:
        connection = connections.get(step.get("connection") or 0)
        if connection is not None:
            systems[step["key"]] = connection.name
        elif step.get("type") in ("workspace", "file"):
            systems[step["key"]] = "Content Server"
    per_step, general = drafts.problems(definition)
    trigger = definition.get("trigger") or {}
    trigger_connection = connections.get(trigger.get("connection") or 0)
    canvas = layout.rows(
        steps,
        layout.Box(
            key="",
            label=TRIGGER_LABELS.get(trigger.get("type"), str(trigger.get("type"))),
            kind="trigger",
            system=trigger_connection.name if trigger_connection else "",
        ),
        systems,
        per_step,
    )
    selected_key = request.GET.get("step", "")
    selected = next((s for s in steps if s["key"] == selected_key), None)
    panel: dict[str, Any] = {}
    if selected is not None:
        panel = _panel(flow, definition, selected, connections)
    query = request.GET.get("q", "")
    adding = request.GET.get("add")
    return render(
        request,
        "integrations/flow_design.html",
        {
            "flow": flow,
            "definition": definition,
            "canvas": canvas,
            "problems": general,
            "not_ready": sum(len(p) for p in per_step.values()) + len(general),
            "changed": drafts.has_changes(flow),
            "can_undo": bool(flow.draft_history),
            "selected": selected,
            "panel": panel,
            "adding": adding is not None,
            "add_after": adding or "",
            "query": query,
            "catalog": catalog.entries(query) if adding is not None else [],
            "sample": json.dumps(testing.sample_of(flow), indent=2, ensure_ascii=False),
            "trigger_json": json.dumps(trigger, indent=2, ensure_ascii=False),
            "type_labels": TYPE_LABELS,
        },
        status=status,
    )


def _panel(
    flow: Flow,
    definition: dict[str, Any],
    step: dict[str, Any],
    connections: dict[int, Connection],
) -> dict[str, Any]:
    tables = definition.get("tables") or {}
    panel: dict[str, Any] = {
        "settings": json.dumps(
            {k: v for k, v in step.items() if k not in SETTINGS_HIDDEN},
            indent=2,
            ensure_ascii=False,
        ),
        "others": [s for s in definition.get("steps") or [] if s["key"] != step["key"]],
        "tests": list(StepTest.objects.filter(flow=flow, step_key=step["key"])[:3]),
    }
    if step.get("type") == "action":
        connection = connections.get(step.get("connection") or 0)
        schema = testing.input_schema(step, connection)
        required = set(schema.get("required") or [])
        actions = []
        if connection is not None:
            actions = sorted(
                (key, spec.label)
                for key, spec in connection.connector_class.actions.items()
            )
        scope = testing.scope_for(flow, definition, step["key"])
        panel.update(
            {
                "connections": list(connections.values()),
                "actions": actions,
                "targets": [
                    {
                        "name": name,
                        "title": (prop.get("title") or name),
                        "required": name in required,
                    }
                    for name, prop in (schema.get("properties") or {}).items()
                ],
                "rules": [
                    {
                        "target": rule.get("target", ""),
                        "expression": rule.get("expression", ""),
                        "transform": catalog.quick_key(
                            rule.get("transforms") or [], tables
                        ),
                    }
                    for rule in step.get("mapping") or []
                ],
                "required": sorted(required),
                "transforms": catalog.quick_transforms(tables),
                "fields": testing.fields_of(scope),
                "preview": testing.preview_step(
                    flow, definition, step, scope, connection
                ),
                "earlier": _earlier(definition, step["key"]),
            }
        )
    return panel


def _earlier(definition: dict[str, Any], key: str) -> list[dict[str, Any]]:
    earlier = []
    for step in definition.get("steps") or []:
        if step["key"] == key:
            break
        earlier.append(step)
    return earlier


# --- Changes to the draft ----------------------------------------------------------


def _save(request: HttpRequest, flow: Flow, definition: dict[str, Any]) -> None:
    drafts.save(flow, definition, request.user)


def _step_from_form(
    request: HttpRequest, flow: Flow, definition: dict[str, Any], step: dict[str, Any]
) -> dict[str, Any]:
    """The step as the panel's form describes it (``DraftError`` if a field
    cannot be read)."""
    post = request.POST
    changed = dict(step)
    changed["name"] = post.get("name", step.get("name", "")).strip()[:200]
    if step.get("type") == "action":
        if post.get("connection", "").isdigit():
            changed["connection"] = int(post["connection"])
        action = post.get("action", step.get("action", ""))
        if changed.get("connection") != step.get("connection"):
            # another system has other actions: keep the action only if it
            # has one of that name
            connection = Connection.objects.filter(pk=changed["connection"]).first()
            known = connection.connector_class.actions if connection else {}
            action = action if action in known else ""
        changed["action"] = action
        changed["document"] = post.get("document", step.get("document", ""))
        tables = definition.get("tables") or {}
        quick = {key: value for key, _, value in catalog.quick_transforms(tables)}
        old = {rule.get("target"): rule for rule in step.get("mapping") or []}
        rules = []
        targets = post.getlist("target")
        expressions = post.getlist("expression")
        transforms = post.getlist("transform")
        removed = set(post.getlist("remove"))
        for index, target in enumerate(targets):
            target = target.strip()
            if not target or str(index) in removed:
                continue
            rule: dict[str, Any] = {
                "target": target,
                "expression": expressions[index] if index < len(expressions) else "",
            }
            choice = transforms[index] if index < len(transforms) else ""
            if choice == "keep":
                kept = (old.get(target) or {}).get("transforms")
                if kept:
                    rule["transforms"] = kept
            elif quick.get(choice):
                rule["transforms"] = quick[choice]
            rules.append(rule)
        if post.get("add_field"):
            rules.append(
                {"target": post.get("new_target", "").strip(), "expression": ""}
            )
        changed["mapping"] = rules
    if "settings" in post:
        try:
            settings = json.loads(post["settings"] or "{}")
        except ValueError as error:
            raise drafts.DraftError(
                f"The settings are not valid JSON ({error.msg} at line {error.lineno})."
            ) from None
        if not isinstance(settings, dict):
            raise drafts.DraftError("The settings must be a JSON object: { ... }.")
        keep = {k: v for k, v in changed.items() if k in SETTINGS_HIDDEN}
        changed = {
            **keep,
            **{k: v for k, v in settings.items() if k not in SETTINGS_HIDDEN},
        }
    return changed


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_step(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    flow = _flow(pk)
    definition = drafts.draft_of(flow)
    try:
        _, step = drafts.find(definition, key)
        changed = _step_from_form(request, flow, definition, step)
        definition = drafts.replace_step(definition, key, changed)
    except drafts.DraftError as error:
        messages.error(request, str(error))
        return _back(flow, key)
    _save(request, flow, definition)
    return _back(flow, key)


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_preview(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """The mapped record as the form stands, without saving it."""
    flow = _flow(pk)
    definition = drafts.draft_of(flow)
    try:
        _, step = drafts.find(definition, key)
        changed = _step_from_form(request, flow, definition, step)
        preview = testing.preview_step(flow, definition, changed)
    except drafts.DraftError as error:
        preview = {"record": {}, "errors": [{"target": "", "message": str(error)}]}
    return render(request, "integrations/_mapping_preview.html", {"preview": preview})


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_add(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    found = catalog.entry(request.POST.get("entry", ""))
    if found is None:
        messages.error(request, "That step is no longer offered: choose another one.")
        return _back(flow, add=request.POST.get("after", "") or "start")
    definition = drafts.draft_of(flow)
    after = request.POST.get("after", "")
    try:
        definition = drafts.add_step(
            definition, found.step, "" if after == "start" else after
        )
    except drafts.DraftError as error:
        messages.error(request, str(error))
        return _back(flow)
    _save(request, flow, definition)
    index = 0 if after in ("", "start") else drafts.find(definition, after)[0] + 1
    return _back(flow, definition["steps"][index]["key"])


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_delete(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    flow = _flow(pk)
    definition = drafts.draft_of(flow)
    try:
        _, step = drafts.find(definition, key)
        definition = drafts.delete_step(definition, key)
    except drafts.DraftError as error:
        messages.error(request, str(error))
        return _back(flow)
    _save(request, flow, definition)
    messages.success(
        request, f"Step “{step.get('name') or key}” was deleted. Undo brings it back."
    )
    return _back(flow)


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_move(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Up, down, or to a position (drag and drop sends ``to``)."""
    flow = _flow(pk)
    definition = drafts.draft_of(flow)
    try:
        index, _ = drafts.find(definition, key)
        direction = request.POST.get("direction", "")
        if direction in ("up", "down"):
            to = index - 1 if direction == "up" else index + 1
        else:
            to = int(request.POST.get("to", index))
        definition = drafts.move_step(definition, key, to)
    except (drafts.DraftError, ValueError) as error:
        messages.error(request, str(error) or "Say where the step goes.")
        return _back(flow, key)
    _save(request, flow, definition)
    return _back(flow, key)


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_undo(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    if drafts.undo(flow, request.user):
        messages.success(request, "The last change was undone.")
    else:
        messages.info(request, "There is nothing to undo.")
    return _back(flow, request.POST.get("step", ""))


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_discard(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    drafts.discard(flow)
    messages.success(
        request, "The changes were thrown away: the draft is the version in use."
    )
    return _back(flow)


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_trigger(request: HttpRequest, pk: int) -> HttpResponse:
    """The trigger (as JSON) and the sample data the designer tests with."""
    flow = _flow(pk)
    definition = drafts.draft_of(flow)
    try:
        if "trigger" in request.POST:
            trigger = json.loads(request.POST["trigger"] or "{}")
            if not isinstance(trigger, dict):
                raise ValueError("The trigger must be a JSON object: { ... }.")
            definition["trigger"] = trigger
            _save(request, flow, definition)
        if "sample" in request.POST:
            sample = json.loads(request.POST["sample"] or "{}")
            if not isinstance(sample, dict):
                raise ValueError("The sample data must be a JSON object: { ... }.")
            Flow.objects.filter(pk=flow.pk).update(sample=sample)
    except ValueError as error:
        message = getattr(error, "msg", None) or str(error)
        messages.error(request, f"That is not valid JSON: {message}")
    return _back(flow, request.POST.get("step", ""))


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_test(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    flow = _flow(pk)
    definition = drafts.draft_of(flow)
    try:
        test = testing.test_step(flow, definition, key, request.user)
    except ValueError as error:
        messages.error(request, str(error))
        return _back(flow, key)
    if test.ok:
        messages.success(
            request, f"The step worked in {test.duration_ms} ms: its answer is below."
        )
    else:
        messages.error(request, f"The step did not work: {test.error}")
    return _back(flow, key)


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def design_publish(request: HttpRequest, pk: int) -> HttpResponse:
    flow = _flow(pk)
    note = request.POST.get("note", "").strip()
    try:
        version = drafts.publish(flow, request.user, note)
    except drafts.DraftError as error:
        messages.error(request, str(error))
        return _back(flow)
    except services.InvalidDefinition as error:
        messages.error(request, "Not published yet: " + " ".join(error.problems))
        return _back(flow)
    messages.success(
        request,
        f"Version {version.number} is published: new runs use it.",
    )
    return redirect("flow-detail", pk=flow.pk)
