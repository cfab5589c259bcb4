"""Flow templates: one per use case of ``USE_CASES.md`` (its key in
brackets), each a working flow once its connections are chosen.

A template names its **slots**, the connections it needs ("the Content
Server connection", "the webhook the operational system posts to"), each of
one connector. ``build`` turns the chosen connections into the flow's
definition; ``instantiate`` creates the flow with its first published
version, the template's sample payload kept with it for "Run now", and an
audit event like any new flow. Nothing in a template refers to an
installation: connections are chosen, names and folders are the defaults a
new flow starts with, and the admin edits them afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors import registry
from connectors.models import Connection
from integrations import services
from integrations.models import Flow


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


# --- A. Capture and archive ---------------------------------------------------------


def capture_to_ecm(c: Mapping[str, int]) -> dict[str, Any]:
    """An operational system posts "a document is ready" with its type and
    metadata; the document is fetched, filed by type with its metadata and
    RM classification, and put on hold when the case asks for one."""
    body = "trigger.body"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'{body}.type & ":" & {body}.number',
        "tables": {
            # document type -> folder, and -> RM classification (the
            # retention schedule); other types go to the Inbox, under Finance
            "folders": {
                "invoice": "Finance/Invoices",
                "contract": "Legal/Contracts",
                "claim": "Claims",
            },
            "classifications": {"invoice": 2202, "contract": 2203, "claim": 2203},
        },
        "steps": [
            {
                "key": "fetch",
                "name": "Fetch the document",
                "type": "action",
                "connection": c["source"],
                "action": "download",
                "mapping": [rule("path", f"{body}.path")],
            },
            {
                "key": "file",
                "name": "File it with its metadata",
                "type": "action",
                "connection": c["ecm"],
                "action": "upload_document",
                "document": "fetch",
                "mapping": [
                    rule("parent_id", "2000"),
                    by_table("folder_path", f"{body}.type", "folders", "Inbox"),
                    rule("categories.9830_2", f"{body}.number"),
                    rule("source_system", f"{body}.system"),
                    rule("source_key", f'{body}.system & ":" & {body}.number'),
                ],
                "transfer": {
                    "source_system": f"{body}.system",
                    "source_id": f"{body}.number",
                    "source_version": f"$string({body}.version ? {body}.version : 1)",
                },
            },
            {
                "key": "classify",
                "name": "Apply the retention schedule",
                "type": "action",
                "connection": c["ecm"],
                "action": "apply_rm_classification",
                "mapping": [
                    rule("node_id", "steps.file.node_id"),
                    by_table("class_id", f"{body}.type", "classifications", 2201),
                ],
            },
            {
                "key": "needs_hold",
                "name": "Does the case need a hold?",
                "type": "router",
                "routes": [{"when": f"{body}.legal_hold = true", "goto": "hold"}],
                "default": "end",
            },
            {
                "key": "hold",
                "name": "Put it on legal hold",
                "type": "action",
                "connection": c["ecm"],
                "action": "apply_hold",
                "mapping": [
                    rule("node_id", "steps.file.node_id"),
                    rule("hold_name", f'"Case " & {body}.case'),
                    rule("create_if_missing", "true"),
                ],
            },
        ],
    }


# --- B. Context: business workspaces ------------------------------------------------

TARGET = 'trigger.body.InputParameters[key="Target"].value'


def workspace_on_create(c: Mapping[str, int]) -> dict[str, Any]:
    """Dynamics posts "a record was created" (its plug-in message); the
    record's business workspace is found or created from the template of its
    type and linked to it. A repeated message finds the same workspace."""
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": 'trigger.body.PrimaryEntityName & ":" & '
        "trigger.body.PrimaryEntityId",
        "steps": [
            {
                "key": "workspace",
                "name": "Find or create the workspace",
                "type": "action",
                "connection": c["ecm"],
                "action": "find_or_create_workspace",
                "mapping": [
                    rule("ext_system_id", '"D365"'),
                    rule("bo_type", "trigger.body.PrimaryEntityName"),
                    rule("bo_id", "trigger.body.PrimaryEntityId"),
                    rule("name", f'{TARGET}.Attributes[key="name"].value'),
                ],
            },
        ],
    }


def metadata_sync(c: Mapping[str, int]) -> dict[str, Any]:
    """Every account changed in Dynamics 365 (its change tracking, polled
    each minute) has its customer workspace, whose metadata is synced by
    the customer type's rules: a change made in either system is copied by
    the rules, and a conflict waits for a reviewer."""
    return {
        "trigger": {
            "type": "poll",
            "connection": c["crm"],
            "trigger": "changes",
            "params": {
                "entity_set": "accounts",
                "select": ["name", "accountnumber", "address1_city", "telephone1"],
            },
            "every_seconds": 60,
        },
        "business_key": "trigger.record.accountnumber",
        "steps": [
            {
                "key": "changed",
                "name": "Only accounts that still exist",
                "type": "condition",
                "expression": 'trigger.reason = "changed"',
                "otherwise": "stop",
            },
            {
                "key": "workspace",
                "name": "Find or create the customer workspace",
                "type": "workspace",
                "workspace_type": "customer",
                "business_key": "trigger.record.accountnumber",
                "workspace_name": "trigger.record.name",
                "links": [
                    {
                        "system": "dynamics",
                        "object_type": "accounts",
                        "object_id": "trigger.id",
                    }
                ],
            },
            {
                "key": "sync",
                "name": "Sync its metadata",
                "type": "sync",
                "workspace_type": "customer",
                "business_key": "trigger.record.accountnumber",
            },
        ],
    }


def evidence_checklist(c: Mapping[str, int]) -> dict[str, Any]:
    """When a supplier's workspace holds every document of its checklist
    (approved where needed), the supplier's Dynamics 365 account is told:
    its onboarding evidence is complete and it may be activated."""
    account = 'trigger.workspace.links[system="dynamics" and type="accounts"][0].id'
    return {
        "trigger": {"type": "workspace_complete", "workspace_type": "supplier"},
        "business_key": "trigger.workspace.business_key",
        "steps": [
            {
                "key": "linked",
                "name": "Only suppliers linked to Dynamics 365",
                "type": "condition",
                "expression": f"$exists({account})",
                "otherwise": "fail",
                "message": "The supplier's workspace is not linked to an account "
                "in Dynamics 365: link it, then replay this run.",
            },
            {
                "key": "activate",
                "name": "Tell Dynamics 365 the evidence is complete",
                "type": "action",
                "connection": c["crm"],
                "action": "update",
                "mapping": [
                    rule("entity_set", '"accounts"'),
                    rule("id", account),
                    rule(
                        "values.description",
                        '"Onboarding evidence complete: " & '
                        '$join($sort($keys(trigger.workspace.documents)), ", ")',
                    ),
                ],
            },
        ],
    }


def supplier_type(connections: Mapping[str, Connection], user: Any) -> None:
    from audit.services import Actor
    from workspaces.presets import ensure_type

    ensure_type("supplier", connections["ecm"], Actor.user(user))


def customer_type(connections: Mapping[str, Connection], user: Any) -> None:
    from audit.services import Actor
    from workspaces.presets import ensure_customer_type

    ensure_customer_type(connections["ecm"], connections["crm"], Actor.user(user))


# --- C. Customer communications -----------------------------------------------------


def event_to_communication(c: Mapping[str, int]) -> dict[str, Any]:
    """Dynamics posts "an account was created"; the account's current data
    is read, Exstream generates the welcome letter from it, and the letter
    is filed in Content Server as evidence of what the customer was sent."""
    account = "steps.account.record"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": '"account:" & trigger.body.PrimaryEntityId',
        "steps": [
            {
                "key": "account",
                "name": "Read the customer",
                "type": "action",
                "connection": c["crm"],
                "action": "get",
                "mapping": [
                    rule("entity_set", '"accounts"'),
                    rule("id", "trigger.body.PrimaryEntityId"),
                ],
            },
            {
                "key": "letters",
                "name": "Find the approved letter",
                "type": "action",
                "connection": c["exstream"],
                "action": "list_communications",
                "mapping": [rule("state", '"APPROVED"')],
            },
            {
                "key": "letter",
                "name": "Generate the welcome letter",
                "type": "action",
                "connection": c["exstream"],
                "action": "generate",
                "mapping": [
                    rule(
                        "communication_id",
                        'steps.letters.communications[name="Welcome letter"].id',
                    ),
                    rule("data.customerNumber", f"{account}.accountnumber"),
                    rule("data.customerName", f"{account}.name"),
                    rule("data.email", f"{account}.emailaddress1"),
                    rule("file_name", f'"welcome-" & {account}.accountnumber & ".pdf"'),
                ],
            },
            {
                "key": "archive",
                "name": "File it with the customer's communications",
                "type": "action",
                "connection": c["ecm"],
                "action": "upload_document",
                "document": "letter",
                "mapping": [
                    rule("parent_id", "2000"),
                    rule("folder_path", f'"Customer communications/" & {account}.name'),
                    rule("categories.9832_3", f"{account}.accountnumber"),
                ],
                "transfer": {
                    "source_system": '"Exstream"',
                    "source_id": 'trigger.body.PrimaryEntityId & "/welcome"',
                },
            },
        ],
    }


# --- E. Exceptions, approvals and governance -----------------------------------------


def deal_approval(c: Mapping[str, int]) -> dict[str, Any]:
    """A salesperson asks for a special discount on an opportunity; the
    opportunity is read from Dynamics, a reviewer decides, and the decision
    with the reviewer's comment goes back to the opportunity as a note
    (an annotation on it)."""
    note = (
        '"Discount of " & $string(trigger.discount) & "% " & '
        "steps.approve.decision & "
        '" by " & steps.approve.by & ($length(steps.approve.comment) > 0 ? '
        '": " & steps.approve.comment : "")'
    )
    return {
        "trigger": {"type": "manual"},
        "business_key": '"opportunity:" & trigger.opportunity',
        "steps": [
            {
                "key": "opportunity",
                "name": "Read the opportunity",
                "type": "action",
                "connection": c["crm"],
                "action": "get",
                "mapping": [
                    rule("entity_set", '"opportunities"'),
                    rule("id", "trigger.opportunity"),
                ],
            },
            {
                "key": "approve",
                "name": "Approve the discount",
                "type": "approval",
                "group": "Reviewer",
                "title": "Approve a special discount",
                "instructions": "Check the justification and the deal's value "
                "before you approve a discount above the standard terms.",
                "on_reject": "decision",
            },
            {
                "key": "decision",
                "name": "Tell Dynamics 365",
                "type": "action",
                "connection": c["crm"],
                "action": "create",
                "mapping": [
                    rule("entity_set", '"annotations"'),
                    rule(
                        "values",
                        '{"subject": "Discount decision", "notetext": '
                        + note
                        + ', "objectid_opportunity@odata.bind": "/opportunities(" & '
                        'trigger.opportunity & ")"}',
                    ),
                ],
            },
        ],
    }


def order_reconciliation(c: Mapping[str, int]) -> dict[str, Any]:
    """A partner's order acknowledgement or invoice is matched against the
    order; a difference becomes a review task, and a rejected one is sent
    back to the partner's system with the reviewer's comment."""
    return {
        "trigger": {"type": "manual"},
        "business_key": '"order:" & trigger.order',
        "steps": [
            {
                "key": "order",
                "name": "Read the order",
                "type": "action",
                "connection": c["orders"],
                "action": "request",
                "mapping": [
                    rule("method", '"GET"'),
                    rule("path", '"orders/" & trigger.order'),
                ],
            },
            {
                "key": "match",
                "name": "Acknowledgement against order",
                "type": "reconcile",
                "group": "Reviewer",
                "on_reject": "dispute",
                "checks": [
                    {
                        "name": "Total",
                        "expected": "steps.order.body.total",
                        "actual": "trigger.total",
                        "tolerance": 0.5,
                    },
                    {
                        "name": "Currency",
                        "expected": "steps.order.body.currency",
                        "actual": "trigger.currency",
                    },
                ],
            },
            {
                "key": "accept",
                "name": "Accept the acknowledgement",
                "type": "set",
                "next": "end",
                "variables": [{"name": "accepted", "expression": "trigger.order"}],
            },
            {
                "key": "dispute",
                "name": "Dispute it with the partner",
                "type": "action",
                "connection": c["orders"],
                "action": "request",
                "mapping": [
                    rule("method", '"POST"'),
                    rule("path", '"echo"'),
                    rule(
                        "body",
                        '{"order": trigger.order, "disputed": vars.approval.comment}',
                    ),
                ],
            },
        ],
    }


ECM = Slot("ecm", "otcs", "Content Server", "Where the documents are filed.")
CRM = Slot("crm", "dynamics", "Dynamics 365", "Where the accounts and deals live.")
TEMPLATES: tuple[FlowTemplate, ...] = (
    FlowTemplate(
        key="capture-to-ecm",
        title="Operational documents to governed records",
        summary="Invoices, contracts and claims from an operational system are "
        "filed into the right folder with their metadata and retention "
        "schedule, and put on legal hold when the case requires it. The same "
        "document twice is one record.",
        group="Capture and archive",
        slots=(
            Slot("events", "webhook", "Events", "The webhook the system posts to."),
            Slot("source", "http", "Operational system", "Where documents are read."),
            ECM,
        ),
        build=capture_to_ecm,
        sample={
            "body": {
                "system": "Billing",
                "type": "invoice",
                "number": "INV-1001",
                "path": "documents/contract-ACC-1001.txt",
                "legal_hold": False,
            }
        },
    ),
    FlowTemplate(
        key="workspace-on-create",
        title="Workspace on business event",
        summary="When an account, case or vendor is created in Dynamics 365, "
        "its business workspace is created in Content Server from the right "
        "template and linked to it. A repeated event finds the same workspace.",
        group="Business workspaces",
        slots=(
            Slot(
                "events",
                "webhook",
                "Dynamics 365 events",
                "The webhook Dynamics 365 posts its plug-in messages to.",
            ),
            ECM,
        ),
        build=workspace_on_create,
        sample={
            "body": {
                "MessageId": "manual-1",
                "MessageName": "Create",
                "PrimaryEntityName": "account",
                "PrimaryEntityId": "aaaaaaaa-0000-4000-8000-000000000001",
                "InputParameters": [
                    {
                        "key": "Target",
                        "value": {
                            "LogicalName": "account",
                            "Id": "aaaaaaaa-0000-4000-8000-000000000001",
                            "Attributes": [{"key": "name", "value": "Contoso Ltd"}],
                        },
                    }
                ],
            }
        },
    ),
    FlowTemplate(
        key="metadata-sync",
        title="Metadata sync",
        summary="Name, account number, city and telephone of each customer are "
        "kept the same in Dynamics 365 and in the customer's workspace, with "
        "an owner per field; a field changed on both sides waits for a "
        "reviewer instead of being overwritten.",
        group="Business workspaces",
        slots=(
            Slot("crm", "dynamics", "Dynamics 365", "Where the accounts live."),
            ECM,
        ),
        build=metadata_sync,
        prepare=customer_type,
    ),
    FlowTemplate(
        key="evidence-checklist",
        title="Evidence checklists",
        summary="A supplier's workspace asks for its tax form, bank details, "
        "insurance certificate and signed contract; what is missing becomes a "
        "review task, and Dynamics 365 is told once everything is there and "
        "approved.",
        group="Business workspaces",
        slots=(CRM, ECM),
        build=evidence_checklist,
        prepare=supplier_type,
    ),
    FlowTemplate(
        key="event-to-communication",
        title="Event-driven generation",
        summary="A new account in Dynamics 365 makes Exstream generate the "
        "welcome letter from the customer's current data; the letter is filed "
        "in Content Server as evidence of what was sent.",
        group="Customer communications",
        slots=(
            Slot(
                "events",
                "webhook",
                "Dynamics 365 events",
                "The webhook Dynamics 365 posts its plug-in messages to.",
            ),
            CRM,
            Slot("exstream", "exstream", "Exstream", "Where letters are generated."),
            ECM,
        ),
        build=event_to_communication,
        sample={
            "body": {
                "MessageId": "manual-1",
                "MessageName": "Create",
                "PrimaryEntityName": "account",
                "PrimaryEntityId": "aaaaaaaa-0000-4000-8000-000000000001",
            }
        },
    ),
    FlowTemplate(
        key="order-reconciliation",
        title="Order acknowledgement reconciliation",
        summary="A partner's order acknowledgement is matched against the order; "
        "a difference waits for a reviewer, and a rejected one goes back to "
        "the partner with the reviewer's comment.",
        group="Trading partners",
        slots=(Slot("orders", "http", "Orders API", "Where orders are read."),),
        build=order_reconciliation,
        sample={"order": "ORD-1002", "total": "157.00", "currency": "EUR"},
    ),
    FlowTemplate(
        key="deal-approval",
        title="Deal approval",
        summary="A special discount on a Dynamics 365 opportunity waits for a "
        "reviewer; the decision and the reviewer's comment go back to the "
        "opportunity as a note.",
        group="Approvals and governance",
        slots=(CRM,),
        build=deal_approval,
        sample={
            "opportunity": "00000000-0000-0000-0000-000000000000",
            "discount": 15,
            "justification": "Three-year commitment",
        },
    ),
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
