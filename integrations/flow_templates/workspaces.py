"""Templates of section B: business workspaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.models import Connection
from integrations.flow_templates.base import (
    CRM,
    ECM,
    FlowTemplate,
    Slot,
    preset,
    rule,
)

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


def customer_type(connections: Mapping[str, Connection], user: Any) -> None:
    from audit.services import Actor
    from workspaces.presets import ensure_customer_type

    ensure_customer_type(connections["ecm"], connections["crm"], Actor.user(user))


TEMPLATES = (
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
        prepare=preset("supplier"),
    ),
)
