"""Workspace types on the Content Server emulator: a customer without a
checklist and a supplier with four documents."""

from __future__ import annotations

import pytest

from workspaces.models import DocumentRequirement, WorkspaceType


@pytest.fixture
def customer(systems) -> WorkspaceType:
    return WorkspaceType.objects.create(
        key="customer",
        name="Customer",
        connection=systems.otcs,
        ext_system_id="D365",
        bo_type="account",
        ecm_workspace_type="16",
        ecm_parent_id=2000,
    )


@pytest.fixture
def supplier(systems) -> WorkspaceType:
    wtype = WorkspaceType.objects.create(
        key="supplier",
        name="Supplier",
        connection=systems.otcs,
        ext_system_id="D365",
        bo_type="vendor",
        ecm_workspace_type="18",
        ecm_parent_id=2000,
    )
    for position, (kind, label, folder, approval, days) in enumerate(
        [
            ("tax_form", "Tax form", "Onboarding", False, None),
            ("bank_details", "Bank details", "Onboarding", False, None),
            ("insurance", "Insurance certificate", "Onboarding", False, 365),
            ("signed_contract", "Signed contract", "Contracts", True, None),
        ]
    ):
        DocumentRequirement.objects.create(
            workspace_type=wtype,
            document_type=kind,
            label=label,
            folder=folder,
            needs_approval=approval,
            valid_days=days,
            position=position,
        )
    return wtype
