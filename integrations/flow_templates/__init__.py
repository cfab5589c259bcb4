"""Flow templates: one per use case of ``USE_CASES.md`` (its key in
brackets), each a working flow once its connections are chosen.

The templates live by section of the use cases (``capture``,
``workspaces``, ``communications``, ``partners``, ``governance``); what a
template is, in ``base``. ``instantiate`` creates the flow with its first
published version, the template's sample payload kept for "Run now", and an
audit event like any new flow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from connectors.models import Connection
from integrations import services
from integrations.flow_templates import (
    capture,
    communications,
    governance,
    partners,
    workspaces,
)
from integrations.flow_templates.base import FlowTemplate, Slot, TemplateError
from integrations.models import Flow

__all__ = ["FlowTemplate", "Slot", "TemplateError", "all_templates", "get"]

TEMPLATES: tuple[FlowTemplate, ...] = (
    *capture.TEMPLATES,
    *workspaces.TEMPLATES,
    *communications.TEMPLATES,
    *partners.TEMPLATES,
    *governance.TEMPLATES,
)
_BY_KEY = {template.key: template for template in TEMPLATES}


def all_templates() -> tuple[FlowTemplate, ...]:
    return TEMPLATES


def get(key: str) -> FlowTemplate:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise TemplateError(f"There is no template “{key}”.") from None


def instantiate(
    key: str,
    connections: Mapping[str, Connection | None],
    user: Any,
    *,
    name: str = "",
    activate: bool = True,
) -> Flow:
    """A new flow from the template, on the chosen connections (one per
    slot, of the slot's connector). ``TemplateError`` names what is wrong."""
    template = get(key)
    errors = {}
    for slot in template.slots:
        chosen = connections.get(slot.key)
        if chosen is None:
            errors[slot.key] = f"Choose the {slot.label} connection."
        elif chosen.connector_key != slot.connector:
            errors[slot.key] = (
                f"“{chosen.name}” is not a {slot.connector_label} connection."
            )
    if errors:
        raise TemplateError(
            "Some connections are missing or of the wrong kind.", errors
        )
    name = (name or template.title).strip()[:200]
    if Flow.objects.filter(name=name).exists():
        raise TemplateError(
            f"A flow called “{name}” exists already: choose another name.",
            {"name": "Choose another name."},
        )
    chosen = {slot.key: connections[slot.key] for slot in template.slots}
    if template.prepare is not None:
        template.prepare(chosen, user)  # type: ignore[arg-type]
    definition = template.build({key: c.pk for key, c in chosen.items() if c})
    flow = services.create_flow(
        name,
        definition,
        user,
        description=template.summary,
        note=f"From the template “{template.title}”",
        activate=activate,
    )
    Flow.objects.filter(pk=flow.pk).update(template_key=template.key)
    flow.template_key = template.key
    return flow


def sample_payload(flow: Flow) -> str:
    """The payload "Run now" starts with: the flow's template's sample."""
    template = _BY_KEY.get(flow.template_key)
    if template is None or not template.sample:
        return "{}"
    return json.dumps(template.sample, indent=2, ensure_ascii=False)
