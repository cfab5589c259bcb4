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


STAGE = f'{TARGET}.Attributes[key="stepname"].value'


def contract_sync(c: Mapping[str, int]) -> dict[str, Any]:
    """An opportunity reaches the proposal stage in Dynamics 365: its
    contract workspace is created in Content Server, where drafts, the
    approval and the executed version live; the contract's status and the
    link to its current document go back to the opportunity, written only
    if nobody changed the opportunity meanwhile (its ETag)."""
    opportunity = "trigger.body.PrimaryEntityId"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"opportunity:" & {opportunity}',
        "tables": {
            "status": {
                "3-Propose": "Contract in drafting",
                "4-Close": "Contract executed",
            },
        },
        "steps": [
            {
                "key": "stage",
                "name": "Only the contract stages",
                "type": "condition",
                "expression": f'{STAGE} in ["3-Propose", "4-Close"]',
                "otherwise": "stop",
            },
            {
                "key": "opportunity",
                "name": "Read the opportunity",
                "type": "action",
                "connection": c["crm"],
                "action": "get",
                "mapping": [
                    rule("entity_set", '"opportunities"'),
                    rule("id", opportunity),
                ],
            },
            {
                "key": "workspace",
                "name": "Find or create the contract workspace",
                "type": "workspace",
                "workspace_type": "contract",
                "business_key": opportunity,
                "workspace_name": '"Contract " & steps.opportunity.record.name',
                "links": [
                    {
                        "system": "dynamics",
                        "object_type": "opportunities",
                        "object_id": opportunity,
                    }
                ],
            },
            {
                "key": "write_back",
                "name": "Tell the opportunity",
                "type": "action",
                "connection": c["crm"],
                "action": "update",
                "mapping": [
                    rule("entity_set", '"opportunities"'),
                    rule("id", opportunity),
                    rule("etag", "steps.opportunity.etag"),
                    {
                        "target": "values.description",
                        "expression": STAGE,
                        "transforms": [
                            {"name": "lookup", "table": "status", "default": None}
                        ],
                    },
                ],
            },
            {
                "key": "link",
                "name": "Link the contract document",
                "type": "action",
                "connection": c["crm"],
                "action": "link_document",
                "mapping": [
                    rule("regarding_entity_set", '"opportunities"'),
                    rule("regarding_id", opportunity),
                    rule("name", '"Contract (Content Server)"'),
                    rule(
                        "absolute_url",
                        "$lookup(steps.workspace.access_urls, "
                        f'$lookup({{"3-Propose": "draft_contract", '
                        f'"4-Close": "executed_contract"}}, {STAGE}))',
                    ),
                ],
            },
        ],
    }


def transaction_docs(c: Mapping[str, int]) -> dict[str, Any]:
    """The order portal has a signed form, a shipping confirmation, a tax
    document or dispute evidence for a sales order; it is fetched, filed
    into the order's workspace as its type, and the link to it is added to
    the order's documents in Dynamics 365."""
    order = "trigger.body.order"
    kind = "trigger.body.document.type"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"order:" & {order}.number',
        "steps": [
            {
                "key": "fetch",
                "name": "Fetch the document",
                "type": "action",
                "connection": c["source"],
                "action": "download",
                "mapping": [rule("path", "trigger.body.document.path")],
            },
            {
                "key": "workspace",
                "name": "Find or create the order's workspace",
                "type": "workspace",
                "workspace_type": "sales_order",
                "business_key": f"{order}.number",
                "workspace_name": f'"Order " & {order}.number',
                "links": [
                    {
                        "system": "dynamics",
                        "object_type": "salesorders",
                        "object_id": f"{order}.id",
                    }
                ],
            },
            {
                "key": "file",
                "name": "File it as its type",
                "type": "file",
                "workspace_type": "sales_order",
                "business_key": f"{order}.number",
                "document": "fetch",
                "document_type_from": kind,
                "transfer": {
                    "source_system": '"Order portal"',
                    "source_id": f'{order}.number & "/" & {kind}',
                },
            },
            {
                "key": "link",
                "name": "Link it on the order in Dynamics 365",
                "type": "action",
                "connection": c["crm"],
                "action": "link_document",
                "mapping": [
                    rule("regarding_entity_set", '"salesorders"'),
                    rule("regarding_id", f"{order}.id"),
                    rule("name", "steps.file.name"),
                    rule("absolute_url", "steps.file.access_url"),
                ],
            },
        ],
    }


def document_access(c: Mapping[str, int]) -> dict[str, Any]:
    """Someone opens a customer in Dynamics 365 and asks for its contract:
    the customer's workspace is checked for an approved one, and a link to
    it is added to the account's documents. The link opens the current
    approved version through xConnector, which checks the reader's access
    and records each read in the audit trail."""
    account = "trigger.body.account"
    wanted = "trigger.body.document"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"account:" & {account}.number',
        "steps": [
            {
                "key": "workspace",
                "name": "Find the customer's workspace",
                "type": "workspace",
                "workspace_type": "customer",
                "business_key": f"{account}.number",
                "workspace_name": f"{account}.name",
                "links": [
                    {
                        "system": "dynamics",
                        "object_type": "accounts",
                        "object_id": f"{account}.id",
                    }
                ],
            },
            {
                "key": "approved",
                "name": "Is an approved version there?",
                "type": "condition",
                "expression": f"$lookup(steps.workspace.documents, {wanted}) "
                '= "present"',
                "otherwise": "fail",
                "message": "The customer's workspace has no approved version of "
                "this document yet: file and approve it, then replay this run.",
            },
            {
                "key": "link",
                "name": "Link it on the account",
                "type": "action",
                "connection": c["crm"],
                "action": "link_document",
                "mapping": [
                    rule("regarding_entity_set", '"accounts"'),
                    rule("regarding_id", f"{account}.id"),
                    rule("name", '"Current " & $replace(' + wanted + ', "_", " ")'),
                    rule(
                        "absolute_url",
                        f"$lookup(steps.workspace.access_urls, {wanted})",
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
    FlowTemplate(
        key="contract-sync",
        title="Contract lifecycle sync",
        summary="An opportunity reaching the proposal stage gets its contract "
        "workspace in Content Server; the contract's status and the link to "
        "its current document go back to the opportunity, never over a "
        "change someone made meanwhile.",
        group="Business workspaces",
        slots=(
            Slot(
                "events",
                "webhook",
                "Dynamics 365 events",
                "The webhook Dynamics 365 posts opportunity updates to.",
            ),
            CRM,
            ECM,
        ),
        build=contract_sync,
        prepare=preset("contract"),
    ),
    FlowTemplate(
        key="transaction-docs",
        title="Supporting documents for transactions",
        summary="Signed forms, shipping confirmations, tax documents and "
        "dispute evidence for a sales order are filed into the order's "
        "workspace, and their links added to the order in Dynamics 365.",
        group="Business workspaces",
        slots=(
            Slot(
                "events", "webhook", "Order portal", "The webhook the portal posts to."
            ),
            Slot("source", "http", "Portal documents", "Where documents are read."),
            CRM,
            ECM,
        ),
        build=transaction_docs,
        prepare=preset("sales_order"),
        sample={
            "body": {
                "MessageId": "manual-1",
                "order": {
                    "number": "SO-1001",
                    "id": "00000000-0000-0000-0000-000000000000",
                },
                "document": {
                    "type": "signed_form",
                    "path": "documents/SO-1001-signed.txt",
                },
            }
        },
    ),
    FlowTemplate(
        key="document-access",
        title="Documents back into business apps",
        summary="A customer's current approved contract is linked on its "
        "Dynamics 365 account; the link opens it through xConnector, which "
        "checks the reader's access and audits each read.",
        group="Business workspaces",
        slots=(
            Slot(
                "events",
                "webhook",
                "Dynamics 365 requests",
                "The webhook Dynamics 365 posts document requests to.",
            ),
            CRM,
            ECM,
        ),
        build=document_access,
        prepare=preset("customer"),
        sample={
            "body": {
                "MessageId": "manual-1",
                "account": {
                    "id": "aaaaaaaa-0000-4000-8000-000000000001",
                    "number": "A1",
                    "name": "Contoso Ltd",
                },
                "document": "signed_contract",
            }
        },
    ),
)
