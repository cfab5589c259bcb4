"""Demo workspace types with their checklists, on the demo Content Server
connection. Demo only: ``manage.py seed_demo`` calls ``seed_demo_types``."""

from __future__ import annotations

from django.db import transaction

from connectors.models import Connection
from workspaces.models import DocumentRequirement, WorkspaceType

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
        types.append(wtype)
    return types
