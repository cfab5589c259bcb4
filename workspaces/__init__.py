"""Business context across systems: workspaces, checklists, metadata sync."""
