"""Demo workspace types with their checklists, on the demo Content Server
connection, the customer synced with the demo Dynamics 365 connection.
Demo only: ``manage.py seed_demo`` calls ``seed_demo_types``."""

from __future__ import annotations

from connectors.models import Connection
from workspaces.models import WorkspaceType
from workspaces.presets import PRESETS, ensure_customer_type, ensure_type


def seed_demo_types(connections: list[Connection]) -> list[WorkspaceType]:
    """Create the demo types once; later calls leave them as they are."""
    otcs = next((c for c in connections if c.connector_key == "otcs"), None)
    dynamics = next((c for c in connections if c.connector_key == "dynamics"), None)
    if otcs is None:
        return []
    types = []
    for key, *_ in PRESETS:
        if key == "customer" and dynamics is not None:
            types.append(ensure_customer_type(otcs, dynamics))
        else:
            types.append(ensure_type(key, otcs))
    return types
