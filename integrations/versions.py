"""Flow versions in words, restoring one, and moving a flow between
installations.

``changes`` says what differs between two definitions the way an admin
would: which steps were added, removed, moved or renamed, which
connection, action or mapping rule of a step changed, and what happened
to the trigger and the lookup tables. ``restore`` publishes an old
version's definition again as the newest version (history is never
rewritten). ``export_flow`` writes a flow as JSON in which connections and
other flows are named, never numbered, and no secret appears (a definition
holds none); ``import_flow`` matches those names against this
installation's connections and creates the flow, refusing with the list of
what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from connectors.models import Connection
from integrations import services
from integrations.models import Flow, FlowVersion

FORMAT = "xconnector.flow/1"
TRIGGER_WORDS = {
    "webhook": "when a webhook arrives",
    "poll": "when something new appears",
    "schedule": "on a schedule",
    "manual": "when started by hand",
    "flow_finished": "when another flow ends",
    "workspace_complete": "when a workspace is complete",
}
STEP_FIELDS = {  # how a changed step field is named in a sentence
    "action": "action",
    "expression": "condition",
    "otherwise": "what happens otherwise",
    "message": "message",
    "routes": "routes",
    "default": "default route",
    "group": "reviewer queue",
    "title": "task title",
    "instructions": "instructions",
    "on_reject": "step after a rejection",
    "checks": "checks",
    "document": "document it sends",
    "document_type": "document type",
    "document_type_from": "document type",
    "workspace_type": "workspace type",
    "business_key": "business object",
    "workspace_name": "workspace name",
    "links": "linked records",
    "seconds": "wait",
    "table": "lookup table",
    "variables": "variables",
    "retry": "retry policy",
    "transfer": "document identity",
    "next": "next step",
    "valid_until": "validity",
}


class ImportRefused(Exception):
    """The file cannot be imported; ``problems`` says why, in words."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- What changed -----------------------------------------------------------


def changes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    names: Mapping[int, str] | None = None,
) -> list[str]:
    """The differences from ``before`` to ``after``, one sentence each."""
    names = names or {}
    said: list[str] = []
    said += _trigger_changes(
        before.get("trigger") or {}, after.get("trigger") or {}, names
    )
    if (before.get("business_key") or "") != (after.get("business_key") or ""):
        said.append(
            f"The business object is now {_code(after.get('business_key'))} "
            f"(was {_code(before.get('business_key'))})."
        )
    said += _table_changes(before.get("tables") or {}, after.get("tables") or {})
    said += _step_changes(before.get("steps") or [], after.get("steps") or [], names)
    return said


def _code(value: Any) -> str:
    if value in (None, "", [], {}):
        return "nothing"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"“{text if len(text) <= 120 else text[:117] + '…'}”"


def _connection(value: Any, names: Mapping[int, str]) -> str:
    return f"“{names.get(value, f'connection {value}')}”" if value else "none"


def _trigger_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], names: Mapping[int, str]
) -> list[str]:
    if before.get("type") != after.get("type"):
        return [
            f"It now starts {TRIGGER_WORDS.get(after.get('type'), after.get('type'))} "
            f"(it started {TRIGGER_WORDS.get(before.get('type'), before.get('type'))})."
        ]
    said = []
    if before.get("connection") != after.get("connection"):
        said.append(
            f"The trigger now listens on {_connection(after.get('connection'), names)} "
            f"(was {_connection(before.get('connection'), names)})."
        )
    for key, label in (
        ("every_seconds", "interval"),
        ("cron", "schedule"),
        ("params", "settings"),
        ("trigger", "event"),
        ("workspace_type", "workspace type"),
        ("flow", "flow it follows"),
        ("on", "outcomes it follows"),
    ):
        if before.get(key) != after.get(key):
            said.append(
                f"The trigger's {label} is now {_code(after.get(key))} "
                f"(was {_code(before.get(key))})."
            )
    return said


def _table_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    said = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            said.append(f"The lookup table “{name}” was added ({len(new)} entries).")
        elif new is None:
            said.append(f"The lookup table “{name}” was removed.")
        else:
            added = len(set(new) - set(old))
            removed = len(set(old) - set(new))
            changed = sum(1 for k in set(old) & set(new) if old[k] != new[k])
            parts = [
                f"{n} {word}"
                for n, word in (
                    (added, "added"),
                    (changed, "changed"),
                    (removed, "removed"),
                )
                if n
            ]
            said.append(f"The lookup table “{name}”: {', '.join(parts)}.")
    return said


def _label(step: Mapping[str, Any]) -> str:
    return str(step.get("name") or step.get("key"))


def _step_changes(
    before: list[dict[str, Any]], after: list[dict[str, Any]], names: Mapping[int, str]
) -> list[str]:
    said = []
    old = {step["key"]: (index, step) for index, step in enumerate(before)}
    new = {step["key"]: (index, step) for index, step in enumerate(after)}
    for key, (index, step) in new.items():
        if key not in old:
            where = f"after “{_label(after[index - 1])}”" if index else "first"
            said.append(f"Step “{_label(step)}” was added, {where}.")
    for key, (_, step) in old.items():
        if key not in new:
            said.append(f"Step “{_label(step)}” was removed.")
    kept_old = [key for key in (s["key"] for s in before) if key in new]
    kept_new = [key for key in (s["key"] for s in after) if key in old]
    for key in kept_new:
        was, now = old[key][1], new[key][1]
        if kept_old.index(key) != kept_new.index(key):
            said.append(
                f"Step “{_label(now)}” moved from position {old[key][0] + 1} to "
                f"{new[key][0] + 1}."
            )
        said += _one_step(was, now, names)
    return said


def _one_step(
    was: Mapping[str, Any], now: Mapping[str, Any], names: Mapping[int, str]
) -> list[str]:
    label = _label(now)
    said = []
    if _label(was) != label:
        said.append(f"Step “{_label(was)}” was renamed “{label}”.")
    if was.get("type") != now.get("type"):
        said.append(f"Step “{label}” is now a {now.get('type')} step.")
        return said
    if was.get("connection") != now.get("connection"):
        said.append(
            f"Step “{label}” now uses {_connection(now.get('connection'), names)} "
            f"(was {_connection(was.get('connection'), names)})."
        )
    said += _mapping_changes(label, was.get("mapping") or [], now.get("mapping") or [])
    for field, words in STEP_FIELDS.items():
        if was.get(field) != now.get(field):
            said.append(
                f"Step “{label}”: its {words} is now {_code(now.get(field))} "
                f"(was {_code(was.get(field))})."
            )
    return said


def _mapping_changes(
    label: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[str]:
    old = {rule.get("target"): rule for rule in before}
    new = {rule.get("target"): rule for rule in after}
    said = []
    for target, rule in new.items():
        if target not in old:
            said.append(
                f"Step “{label}”: “{target}” is now mapped from "
                f"{_code(rule.get('expression'))}."
            )
        elif old[target] != rule:
            if old[target].get("expression") != rule.get("expression"):
                said.append(
                    f"Step “{label}”: “{target}” is now mapped from "
                    f"{_code(rule.get('expression'))} (was "
                    f"{_code(old[target].get('expression'))})."
                )
            else:
                said.append(f"Step “{label}”: the transforms of “{target}” changed.")
    for target in old:
        if target not in new:
            said.append(f"Step “{label}”: “{target}” is no longer mapped.")
    return said


def connection_names(*definitions: Mapping[str, Any]) -> dict[int, str]:
    """The names of the connections the definitions use (one query)."""
    ids = set()
    for definition in definitions:
        ids |= _connection_ids(definition)
    return dict(Connection.objects.filter(pk__in=ids).values_list("pk", "name"))


def _connection_ids(definition: Mapping[str, Any]) -> set[int]:
    ids = set()
    trigger = definition.get("trigger") or {}
    if trigger.get("connection"):
        ids.add(int(trigger["connection"]))
    for step in definition.get("steps") or []:
        if step.get("connection"):
            ids.add(int(step["connection"]))
    return ids


def restore(flow: Flow, version: FlowVersion, user: Any) -> FlowVersion:
    """Publish ``version``'s definition again, as the flow's newest version."""
    if version.flow_id != flow.pk:
        raise ValueError("That version belongs to another flow.")
    return services.publish_version(
        flow,
        version.definition,
        user,
        note=f"Restored version {version.number}",
    )


# --- Export and import ------------------------------------------------------------


def export_flow(flow: Flow) -> dict[str, Any]:
    """The flow's current version as portable JSON: connections and followed
    flows by name (with their connector), never by number; no secret."""
    version = flow.published_version
    if version is None:
        raise ValueError("The flow has no published version to export.")
    definition = json.loads(json.dumps(version.definition))
    ids = _connection_ids(definition)
    connections = {
        c.pk: {"name": c.name, "connector": c.connector_key}
        for c in Connection.objects.filter(pk__in=ids)
    }
    trigger = definition.get("trigger") or {}
    if trigger.get("connection"):
        trigger["connection"] = connections.get(trigger["connection"])
    if trigger.get("flow"):
        followed = Flow.objects.filter(pk=trigger["flow"]).values_list(
            "name", flat=True
        )
        trigger["flow"] = {"name": followed.first() or ""}
    for step in definition.get("steps") or []:
        if step.get("connection"):
            step["connection"] = connections.get(step["connection"])
    return {
        "format": FORMAT,
        "name": flow.name,
        "description": flow.description,
        "template": flow.template_key,
        "version": version.number,
        "exported_at": timezone.now().isoformat(),
        "definition": definition,
    }


def import_flow(data: Any, user: Any, *, name: str = "") -> Flow:
    """A new flow (not yet active) from ``export_flow``'s JSON, on this
    installation's connections of the same names and connectors."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportRefused(
            ["This is not a flow exported from xConnector (its format is unknown)."]
        )
    definition = data.get("definition")
    if not isinstance(definition, dict):
        raise ImportRefused(["The file holds no flow definition."])
    definition = json.loads(json.dumps(definition))
    problems: list[str] = []
    by_name = {(c.name, c.connector_key): c.pk for c in Connection.objects.all()}

    def resolve(reference: Any, where: str) -> int | None:
        if not isinstance(reference, dict) or not reference.get("name"):
            problems.append(f"{where} names no connection.")
            return None
        found = by_name.get((reference["name"], reference.get("connector")))
        if found is None:
            problems.append(
                f"{where} needs a {reference.get('connector')} connection called "
                f"“{reference['name']}”: create it (or rename yours), then import "
                "again."
            )
        return found

    trigger = definition.get("trigger") or {}
    if trigger.get("connection"):
        trigger["connection"] = resolve(trigger["connection"], "The trigger")
    if isinstance(trigger.get("flow"), dict):
        followed = Flow.objects.filter(name=trigger["flow"].get("name", "")).first()
        if followed is None:
            problems.append(
                f"The trigger follows the flow “{trigger['flow'].get('name')}”, "
                "which this installation does not have."
            )
        trigger["flow"] = followed.pk if followed else None
    for step in definition.get("steps") or []:
        if step.get("connection"):
            step["connection"] = resolve(step["connection"], f"Step “{_label(step)}”")
    name = (name or str(data.get("name") or "Imported flow")).strip()[:200]
    if Flow.objects.filter(name=name).exists():
        problems.append(f"A flow called “{name}” exists already: choose another name.")
    if problems:
        raise ImportRefused(problems)
    flow = services.create_flow(
        name,
        definition,
        user,
        description=str(data.get("description") or "")[:2000],
        note=f"Imported (version {data.get('version')} of “{data.get('name')}”)",
    )
    return flow
