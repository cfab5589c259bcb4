"""The template gallery: a flow for each use case, drawn as the steps it
runs and the systems it connects; "Use template" asks only for the
connections it needs."""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from connectors.models import Connection
from integrations import flow_templates
from integrations.flow_templates import TemplateError

ADD = "integrations.add_flow"


@login_required
@permission_required(ADD, raise_exception=True)
def template_gallery(request: HttpRequest) -> HttpResponse:
    templates = flow_templates.all_templates()
    groups = [
        (group, [(t, t.picture()) for t in items])
        for group, items in groupby(templates, key=lambda t: t.group)
    ]
    return render(
        request,
        "integrations/template_gallery.html",
        {"groups": groups, "count": len(templates)},
    )


@login_required
@permission_required(ADD, raise_exception=True)
def template_use(request: HttpRequest, key: str) -> HttpResponse:
    try:
        template = flow_templates.get(key)
    except TemplateError as error:
        raise Http404(error.message) from None
    connectors = {slot.connector for slot in template.slots}
    available = list(
        Connection.objects.filter(connector_key__in=connectors).order_by("name")
    )
    choices = {
        slot.key: [c for c in available if c.connector_key == slot.connector]
        for slot in template.slots
    }
    errors: dict[str, str] = {}
    name = request.POST.get("name", template.title).strip()
    chosen = {
        slot.key: (
            request.POST.get(f"slot-{slot.key}", "")
            if request.method == "POST"
            else str(choices[slot.key][0].pk)
            if len(choices[slot.key]) == 1
            else ""
        )
        for slot in template.slots
    }
    if request.method == "POST":
        by_pk = {str(c.pk): c for c in available}
        try:
            flow = flow_templates.instantiate(
                key,
                {slot: by_pk.get(pk) for slot, pk in chosen.items()},
                request.user,
                name=name,
                activate=request.POST.get("activate") == "on",
            )
        except TemplateError as error:
            errors = error.errors
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"“{flow.name}” is ready"
                + (" and on." if flow.status == "active" else ", turned off.")
                + " Look at its steps, then run it.",
            )
            return redirect("flow-detail", pk=flow.pk)
    slots = [
        {
            "slot": slot,
            "choices": choices[slot.key],
            "chosen": chosen[slot.key],
            "error": errors.get(slot.key, ""),
        }
        for slot in template.slots
    ]
    return render(
        request,
        "integrations/template_use.html",
        {
            "template": template,
            "picture": template.picture(),
            "slots": slots,
            "name": name,
            "name_error": errors.get("name", ""),
            "missing": [s for s in slots if not s["choices"]],
        },
        status=400 if errors else 200,
    )
