"""What the designer offers to add: the steps built into xConnector and
every action of every connection, searchable by words; and the quick
transforms of the mapping editor's menu."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors import registry
from connectors.models import Connection

BUILT_IN: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "condition",
        "Check a condition",
        "Go on only when an expression is true; otherwise stop or fail the run.",
        {
            "type": "condition",
            "name": "Check",
            "expression": "true",
            "otherwise": "stop",
        },
    ),
    (
        "router",
        "Choose a path",
        "Send the run one way or another by rules, side by side.",
        {"type": "router", "name": "Which way?", "routes": [], "default": "end"},
    ),
    (
        "approval",
        "Ask for approval",
        "A reviewer approves or rejects; the run waits for the decision.",
        {
            "type": "approval",
            "name": "Approve",
            "group": "Reviewer",
            "title": "Approve",
            "instructions": "",
        },
    ),
    (
        "wait",
        "Wait",
        "Pause the run for a while, then go on.",
        {"type": "wait", "name": "Wait", "seconds": 3600},
    ),
    (
        "set",
        "Remember values",
        "Keep values under a name for the later steps.",
        {
            "type": "set",
            "name": "Remember",
            "variables": [{"name": "value", "expression": "trigger"}],
        },
    ),
    (
        "workspace",
        "Find or create a workspace",
        "The business object's workspace in Content Server, created once.",
        {
            "type": "workspace",
            "name": "Find the workspace",
            "workspace_type": "customer",
            "business_key": "trigger.key",
        },
    ),
    (
        "file",
        "File into a workspace",
        "File the run's document as one of the workspace's checklist items.",
        {
            "type": "file",
            "name": "File it",
            "workspace_type": "customer",
            "business_key": "trigger.key",
            "document_type": "signed_contract",
        },
    ),
]

QUICK_TRANSFORMS: list[tuple[str, str, list[dict[str, Any]]]] = [
    ("", "As it is", []),
    ("trim", "Trim spaces", [{"name": "trim"}]),
    ("upper", "UPPER CASE", [{"name": "case", "to": "upper"}]),
    ("lower", "lower case", [{"name": "case", "to": "lower"}]),
    ("title", "Title Case", [{"name": "case", "to": "title"}]),
    ("number", "Number", [{"name": "number"}]),
    (
        "decimal_comma",
        "Number with a decimal comma",
        [{"name": "number", "decimal_separator": ","}],
    ),
    ("date", "Date (YYYY-MM-DD)", [{"name": "date"}]),
    ("string", "Text", [{"name": "string"}]),
    ("boolean", "Yes / no", [{"name": "boolean"}]),
]


def quick_transforms(tables: dict[str, Any]) -> list[tuple[str, str, list[dict]]]:
    """The menu, with a "look up" entry per lookup table of the flow."""
    lookups = [
        (f"lookup:{name}", f"Look up in “{name}”", [{"name": "lookup", "table": name}])
        for name in sorted(tables)
    ]
    return QUICK_TRANSFORMS + lookups


def quick_key(transforms: list[dict[str, Any]], tables: dict[str, Any]) -> str:
    """The menu entry of ``transforms``, or "keep" for anything else."""
    for key, _, value in quick_transforms(tables):
        if transforms == value:
            return key
    return "keep"


@dataclass
class Entry:
    id: str  # "builtin:condition" or "action:<connection>:<action>"
    label: str
    description: str
    group: str
    step: dict[str, Any]


def entries(query: str = "") -> list[Entry]:
    """Everything that can be added, matching every word of ``query``."""
    found = [
        Entry(f"builtin:{key}", label, text, "Built-in steps", step)
        for key, label, text, step in BUILT_IN
    ]
    for connection in Connection.objects.order_by("name"):
        if connection.connector_key not in registry.connectors():
            continue  # a connector this installation no longer has
        cls = connection.connector_class
        for key, spec in sorted(cls.actions.items()):
            found.append(
                Entry(
                    f"action:{connection.pk}:{key}",
                    spec.label,
                    spec.description,
                    connection.name,
                    {
                        "type": "action",
                        "name": spec.label,
                        "connection": connection.pk,
                        "action": key,
                        "mapping": [],
                    },
                )
            )
    words = query.lower().split()
    if not words:
        return found
    return [
        entry
        for entry in found
        if all(
            word in f"{entry.label} {entry.description} {entry.group}".lower()
            for word in words
        )
    ]


def entry(entry_id: str) -> Entry | None:
    return next((e for e in entries() if e.id == entry_id), None)
