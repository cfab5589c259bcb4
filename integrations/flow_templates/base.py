"""What a flow template is: its slots, its build, its picture.

A template names its **slots**, the connections it needs ("the Content
Server connection", "the webhook the operational system posts to"), each of
one connector. ``build`` turns the chosen connections into the flow's
definition. Nothing in a template refers to an installation: connections
are chosen, names and folders are the defaults a new flow starts with, and
the admin edits them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors import registry
from connectors.models import Connection


@dataclass(frozen=True)
class Slot:
    """A connection a template needs."""

    key: str
    connector: str
    label: str
    help: str = ""

    @property
    def connector_label(self) -> str:
        return registry.get_connector(self.connector).label


@dataclass(frozen=True)
class FlowTemplate:
    key: str
    title: str
    summary: str
    group: str
    slots: tuple[Slot, ...]
    build: Callable[[Mapping[str, int]], dict[str, Any]]
    sample: dict[str, Any] = field(default_factory=dict)
    # What the flow needs besides connections (a workspace type), made on
    # the chosen connections when it is missing.
    prepare: Callable[[Mapping[str, Connection], Any], None] | None = None

    @property
    def systems(self) -> list[str]:
        """The systems it connects, in the order of its slots, once each."""
        labels = [slot.connector_label for slot in self.slots]
        return list(dict.fromkeys(labels))

    def picture(self) -> list[dict[str, str]]:
        """The flow as boxes: its trigger, then each step with its system.

        Built with a distinct number for each slot, so the number a step's
        ``connection`` holds tells which slot's system it talks to."""
        numbers = {slot.key: index for index, slot in enumerate(self.slots, 1)}
        system_of = {numbers[s.key]: s.connector_label for s in self.slots}
        definition = self.build(numbers)
        trigger = definition["trigger"]
        boxes = [
            {
                "kind": "trigger",
                "label": TRIGGER_LABELS.get(trigger["type"], trigger["type"]),
                "system": system_of.get(trigger.get("connection"), ""),
            }
        ]
        for step in definition["steps"]:
            boxes.append(
                {
                    "kind": step["type"],
                    "label": step.get("name") or step["key"],
                    "system": system_of.get(step.get("connection"), "")
                    or STEP_SYSTEMS.get(step["type"], ""),
                }
            )
        return boxes


TRIGGER_LABELS = {
    "webhook": "When a webhook arrives",
    "poll": "When something new appears",
    "schedule": "On a schedule",
    "manual": "When started by hand",
    "flow_finished": "When another flow ends",
    "workspace_complete": "When a workspace is complete",
}
STEP_SYSTEMS = {
    "approval": "Reviewer",
    "reconcile": "Reviewer",
    "workspace": "Content Server",
    "file": "Content Server",
    "sync": "Dynamics 365 ↔ Content Server",
}


class TemplateError(Exception):
    """The template cannot be used so; ``errors`` names each slot's problem."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


def rule(target: str, expression: str) -> dict[str, str]:
    return {"target": target, "expression": expression}


def by_table(target: str, expression: str, table: str, default: Any) -> dict[str, Any]:
    """``target`` is ``expression`` looked up in the flow's ``table``."""
    return {
        "target": target,
        "expression": expression,
        "transforms": [{"name": "lookup", "table": table, "default": default}],
    }


ECM = Slot("ecm", "otcs", "Content Server", "Where the documents are filed.")
CRM = Slot("crm", "dynamics", "Dynamics 365", "Where the accounts and deals live.")
EXSTREAM = Slot(
    "exstream", "exstream", "Exstream", "Where communications are generated."
)
GRID = Slot("grid", "tradinggrid", "Trading Grid", "Where the trading partners are.")


def communication(name: str, listed: str = "letters") -> str:
    """The id of the communication ``name`` in the step ``listed`` (a
    ``list_communications``)."""
    return f'steps.{listed}.communications[name="{name}"].id'


def list_approved(connection: int, key: str = "letters") -> dict[str, Any]:
    """A step that lists Exstream's approved communications, so that later
    steps find one by name (``communication``)."""
    return {
        "key": key,
        "name": "Find the approved communications",
        "type": "action",
        "connection": connection,
        "action": "list_communications",
        "mapping": [rule("state", '"APPROVED"')],
    }


def preset(key: str) -> Callable[[Mapping[str, Connection], Any], None]:
    """A ``prepare`` that makes the preset workspace type ``key`` on the
    chosen Content Server connection (the slot ``ecm``), when missing."""

    def prepare(connections: Mapping[str, Connection], user: Any) -> None:
        from audit.services import Actor
        from workspaces.presets import ensure_type

        ensure_type(key, connections["ecm"], Actor.user(user))

    return prepare
