"""The four roles exist as groups with the permissions their work needs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from xconnector import roles

pytestmark = pytest.mark.django_db


def codenames(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_migrations_create_the_four_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Integration admin",
        "Reviewer",
        "Compliance auditor",
        "Viewer",
    }


def test_integration_admin_manages_schedules_and_viewers_only_look():
    assert "django_celery_beat.change_periodictask" in codenames(
        roles.INTEGRATION_ADMIN
    )
    assert "xconnector.view_workerheartbeat" in codenames(roles.VIEWER)
    assert not any(
        code.split(".")[1].startswith(("add_", "change_", "delete_"))
        for code in codenames(roles.VIEWER)
    )


def test_sync_is_additive_and_idempotent():
    from django.apps import apps

    before = codenames(roles.REVIEWER)
    roles.sync_roles(apps)
    roles.sync_roles(apps)

    assert codenames(roles.REVIEWER) == before
