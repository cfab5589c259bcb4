"""A flow's versions compared in words, an old one restored, and a flow
exported to JSON or imported from another installation's export."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from integrations import services, versions
from integrations.models import Flow, FlowVersion

MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _version(flow: Flow, number: str | int | None) -> FlowVersion | None:
    if number in (None, ""):
        return None
    try:
        return flow.versions.select_related("author").get(number=int(number))
    except (ValueError, FlowVersion.DoesNotExist):
        raise Http404("No such version.") from None


@login_required
@permission_required("integrations.view_flow", raise_exception=True)
def flow_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed from one version to another (default: the current
    version against the one before it)."""
    flow = get_object_or_404(Flow.objects.select_related("published_version"), pk=pk)
    all_versions = list(flow.versions.select_related("author").order_by("-number"))
    if not all_versions:
        raise Http404("This flow has no version yet.")
    newer = _version(flow, request.GET.get("to")) or flow.published_version
    older = _version(flow, request.GET.get("from"))
    if older is None:
        older = next((v for v in all_versions if v.number < newer.number), None)
    said: list[str] = []
    if older is not None:
        names = versions.connection_names(older.definition, newer.definition)
        said = versions.changes(older.definition, newer.definition, names)
    return render(
        request,
        "integrations/flow_compare.html",
        {
            "flow": flow,
            "versions": all_versions,
            "older": older,
            "newer": newer,
            "changes": said,
        },
    )


@login_required
@permission_required("integrations.change_flow", raise_exception=True)
@require_POST
def flow_restore(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=pk)
    old = _version(flow, number)
    try:
        version = versions.restore(flow, old, request.user)
    except services.InvalidDefinition as error:
        messages.error(
            request,
            f"Version {number} cannot be used any more: " + " ".join(error.problems),
        )
        return redirect("flow-detail", pk=flow.pk)
    messages.success(
        request,
        f"Version {number} is back in use, as version {version.number}. "
        "Runs from now on use it; runs already going keep their version.",
    )
    return redirect("flow-detail", pk=flow.pk)


@login_required
@permission_required("integrations.view_flow", raise_exception=True)
def flow_export(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(Flow.objects.select_related("published_version"), pk=pk)
    try:
        data = versions.export_flow(flow)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("flow-detail", pk=flow.pk)
    body = json.dumps(data, indent=2, ensure_ascii=False)
    answer = HttpResponse(body, content_type="application/json; charset=utf-8")
    answer["Content-Disposition"] = content_disposition_header(
        True, f"{slugify(flow.name) or 'flow'}-v{data['version']}.json"
    )
    return answer


@login_required
@permission_required("integrations.add_flow", raise_exception=True)
def flow_import(request: HttpRequest) -> HttpResponse:
    problems: list[str] = []
    name = ""
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        upload = request.FILES.get("file")
        if upload is None:
            problems = ["Choose the JSON file a flow was exported to."]
        elif upload.size > MAX_IMPORT_BYTES:
            problems = ["The file is larger than the 2 MB a flow export can be."]
        else:
            try:
                data = json.loads(upload.read().decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                problems = ["The file is not JSON: choose the file the export made."]
            else:
                try:
                    flow = versions.import_flow(data, request.user, name=name)
                except versions.ImportRefused as refused:
                    problems = refused.problems
                except services.InvalidDefinition as error:
                    problems = error.problems
                else:
                    messages.success(
                        request,
                        f"“{flow.name}” was imported. It is off until you turn it "
                        "on: check its steps first.",
                    )
                    return redirect("flow-detail", pk=flow.pk)
    return render(
        request,
        "integrations/flow_import.html",
        {"problems": problems, "name": name},
        status=400 if problems else 200,
    )
