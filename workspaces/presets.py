"""Workspace types the demo and the flow templates start from: the customer
(its contract, and its fields kept in step with its Dynamics 365 account on
Content Server's "Business partner" category, 9832) and the supplier (its
onboarding evidence). An admin changes them afterwards in /admin/."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.services import Actor, record_config_change
from connectors.models import Connection
from workspaces.models import (
    DocumentRequirement,
    OnConflict,
    SyncDirection,
    SyncOwner,
    SyncRule,
    Transform,
    WorkspaceType,
)

# key, name, ECM workspace type, business object type, checklist items
# (document type, label, folder, needs approval, valid days, required).
PRESETS = [
    (
        "customer",
        "Customer",
        "16",
        "account",
        [("signed_contract", "Signed contract", "Contracts", True, None, True)],
    ),
    (
        "supplier",
        "Supplier",
        "18",
        "vendor",
        [
            ("tax_form", "Tax form", "Onboarding", False, None, True),
            ("bank_details", "Bank details", "Onboarding", False, None, True),
            ("insurance", "Insurance certificate", "Onboarding", False, 365, True),
            ("signed_contract", "Signed contract", "Contracts", True, None, True),
        ],
    ),
    (
        "sales_order",
        "Sales order",
        "17",
        "salesorder",
        [
            ("signed_form", "Signed order form", "Order documents", False, None, True),
            ("shipping_confirmation", "Shipping confirmation", "Shipping", False,
             None, True),
            ("tax_document", "Tax document", "Order documents", False, None, False),
            ("dispute_evidence", "Dispute evidence", "Exceptions", False, None, False),
            ("partner_correction", "Partner correction", "Exceptions", False, None,
             False),
            ("shipment_notice", "Shipment notice", "Shipping", False, None, False),
        ],
    ),
    (
        "contract",
        "Contract",
        "19",
        "opportunity",
        [
            ("draft_contract", "Contract draft", "Drafts", False, None, True),
            ("executed_contract", "Executed contract", "Executed", True, None, True),
        ],
    ),
    (
        "case",
        "Case",
        "20",
        "incident",
        [
            ("correspondence", "Correspondence", "Correspondence", False, None, False),
            ("partner_document", "Partner document", "Partner documents", False,
             None, False),
        ],
    ),
]  # fmt: skip
# label, column, attribute, owner, direction, on conflict, transform to the ECM
CUSTOMER_SYNC = [
    ("Name", "name", "9832_2", SyncOwner.SYSTEM, SyncDirection.FROM_OWNER,
     OnConflict.REVIEW, Transform.NONE),
    ("Account number", "accountnumber", "9832_3", SyncOwner.SYSTEM,
     SyncDirection.FROM_OWNER, OnConflict.OWNER, Transform.UPPER),
    ("City", "address1_city", "9832_4", SyncOwner.SYSTEM, SyncDirection.BOTH,
     OnConflict.REVIEW, Transform.NONE),
    ("Telephone", "telephone1", "9832_5", SyncOwner.ECM, SyncDirection.FROM_OWNER,
     OnConflict.OWNER, Transform.TRIM),
]  # fmt: skip


@transaction.atomic
def ensure_type(
    key: str, otcs: Connection, actor: Actor | None = None
) -> WorkspaceType:
    """The preset type ``key`` on ``otcs``, created with its checklist when
    it does not exist; an existing one is left as it is."""
    _, name, ecm_type, bo_type, items = next(p for p in PRESETS if p[0] == key)
    wtype, created = WorkspaceType.objects.get_or_create(
        key=key,
        defaults={
            "name": name,
            "connection": otcs,
            "ext_system_id": "D365",
            "bo_type": bo_type,
            "ecm_workspace_type": ecm_type,
            "ecm_parent_id": 2000,
        },
    )
    if created:
        DocumentRequirement.objects.bulk_create(
            DocumentRequirement(
                workspace_type=wtype,
                document_type=kind,
                label=label,
                folder=folder,
                needs_approval=approval,
                valid_days=days,
                required=required,
                position=position,
            )
            for position, (kind, label, folder, approval, days, required) in enumerate(
                items
            )
        )
        if actor is not None:
            _audit(actor, wtype, "created")
    return wtype


@transaction.atomic
def ensure_customer_type(
    otcs: Connection, dynamics: Connection, actor: Actor | None = None
) -> WorkspaceType:
    """The customer type, synced with ``dynamics`` by ``CUSTOMER_SYNC``
    unless it syncs already (its rules are then left as they are)."""
    wtype = ensure_type("customer", otcs, actor)
    if wtype.system_connection_id and wtype.sync_rules.exists():
        return wtype
    wtype.system_connection = dynamics
    wtype.record_set = wtype.record_set or "accounts"
    wtype.save(update_fields=["system_connection", "record_set"])
    if not wtype.sync_rules.exists():
        SyncRule.objects.bulk_create(
            SyncRule(
                workspace_type=wtype,
                label=label,
                system_field=column,
                ecm_attribute=attribute,
                owner=owner,
                direction=direction,
                on_conflict=on_conflict,
                to_ecm=to_ecm,
                position=position,
            )
            for position, (
                label,
                column,
                attribute,
                owner,
                direction,
                on_conflict,
                to_ecm,
            ) in enumerate(CUSTOMER_SYNC)
        )
    if actor is not None:
        _audit(actor, wtype, "synced with Dynamics 365")
    return wtype


def _audit(actor: Actor, wtype: WorkspaceType, what: str) -> Any:
    return record_config_change(
        actor,
        object_type="Workspace type",
        object_id=wtype.pk,
        object_name=wtype.name,
        before=None,
        after={
            "key": wtype.key,
            "connection": wtype.connection_id,
            "system_connection": wtype.system_connection_id,
            "sync_rules": list(wtype.sync_rules.values_list("label", flat=True)),
            "checklist": list(
                wtype.requirements.values_list("document_type", flat=True)
            ),
            "why": what,
        },
    )
