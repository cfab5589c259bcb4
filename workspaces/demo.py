"""Demo workspace types with their checklists, on the demo Content Server
connection. Demo only: ``manage.py seed_demo`` calls ``seed_demo_types``."""

from __future__ import annotations

from django.db import transaction

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

# The customer's fields kept in step with its Dynamics 365 account, on the
# emulator's "Business partner" category (9832): label, column, attribute,
# owner, direction, on conflict, transform to the ECM.
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

# key, name, ECM workspace type, business object type, checklist items
# (document type, label, folder, needs approval, valid days).
DEMO_TYPES = [
    (
        "customer",
        "Customer",
        "16",
        "account",
        [("signed_contract", "Signed contract", "Contracts", True, None)],
    ),
    (
        "supplier",
        "Supplier",
        "18",
        "vendor",
        [
            ("tax_form", "Tax form", "Onboarding", False, None),
            ("bank_details", "Bank details", "Onboarding", False, None),
            ("insurance", "Insurance certificate", "Onboarding", False, 365),
            ("signed_contract", "Signed contract", "Contracts", True, None),
        ],
    ),
]


@transaction.atomic
def seed_demo_types(connections: list[Connection]) -> list[WorkspaceType]:
    """Create the demo types once; later calls leave them as they are."""
    otcs = next((c for c in connections if c.connector_key == "otcs"), None)
    dynamics = next((c for c in connections if c.connector_key == "dynamics"), None)
    if otcs is None:
        return []
    types = []
    for key, name, ecm_type, bo_type, items in DEMO_TYPES:
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
                    position=position,
                )
                for position, (kind, label, folder, approval, days) in enumerate(items)
            )
            if key == "customer" and dynamics is not None:
                _sync_customers(wtype, dynamics)
        types.append(wtype)
    return types


def _sync_customers(wtype: WorkspaceType, dynamics: Connection) -> None:
    wtype.system_connection = dynamics
    wtype.record_set = "accounts"
    wtype.save(update_fields=["system_connection", "record_set"])
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
