"""The four roles of xConnector, as Django groups with permissions.

- Integration admin: connections, flows, mappings, templates; runs and replays.
- Reviewer: works the review tasks and approvals in their queues.
- Compliance auditor: reads and exports the audit trail; changes nothing.
- Viewer: sees dashboards, flows and runs; changes nothing.

A role is a list of permission patterns ``app_label.codename`` where the
codename may be ``view_*`` (every view permission of that app) or ``*``.
Patterns that match nothing yet are fine: apps that arrive later add their
models and the post-migrate sync grants the new permissions.
"""

from __future__ import annotations

import fnmatch
from typing import Any

INTEGRATION_ADMIN = "Integration admin"
REVIEWER = "Reviewer"
COMPLIANCE_AUDITOR = "Compliance auditor"
VIEWER = "Viewer"

ROLES: dict[str, list[str]] = {
    INTEGRATION_ADMIN: [
        "connectors.*",
        "integrations.*",
        "workspaces.*",
        "audit.view_*",
        "django_celery_beat.*",
        "xconnector.view_*",
        "api.*",
    ],
    REVIEWER: [
        "integrations.view_*",
        "integrations.change_reviewtask",
        "integrations.change_approval",
        "workspaces.view_*",
        "workspaces.access_document",
        "xconnector.view_*",
    ],
    COMPLIANCE_AUDITOR: [
        "audit.view_*",
        "audit.export_*",
        "integrations.view_*",
        "workspaces.view_*",
        "workspaces.access_document",
        "workspaces.add_workspacehold",
        "workspaces.change_workspacehold",
        "connectors.view_*",
        "xconnector.view_*",
    ],
    VIEWER: [
        "connectors.view_*",
        "integrations.view_*",
        "workspaces.view_*",
        "xconnector.view_*",
    ],
}


def sync_roles(apps: Any) -> None:
    """Create the groups and grant every existing permission their patterns match.

    Takes an app registry so it runs inside a data migration (historical
    models) as well as after ``migrate`` (the live registry). It only adds:
    permissions an operator granted by hand are kept.
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    permissions = list(permission_model.objects.select_related("content_type").all())
    for role, patterns in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = [
            perm.pk
            for perm in permissions
            if any(_matches(perm, pattern) for pattern in patterns)
        ]
        group.permissions.add(*wanted)


def _matches(permission: Any, pattern: str) -> bool:
    app_label, codename = pattern.split(".", 1)
    return permission.content_type.app_label == app_label and fnmatch.fnmatchcase(
        permission.codename, codename
    )


def sync_after_migrate(sender: Any, apps: Any = None, **kwargs: Any) -> None:
    """post_migrate receiver: run once, after the last app's permissions exist.

    Django sends post_migrate once per app that has models, in INSTALLED_APPS
    order, creating that app's permissions first; so the last such app's
    signal sees them all.
    """
    from django.apps import apps as live_apps

    with_models = [c for c in live_apps.get_app_configs() if c.models_module]
    if sender.label != with_models[-1].label:
        return
    sync_roles(apps or live_apps)
