from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class XConnectorConfig(AppConfig):
    """Platform pieces shared by every app: roles, health, demo data."""

    name = "xconnector"
    verbose_name = "xConnector platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xconnector import roles
        from xconnector.celery import prepare_var_folders

        prepare_var_folders()
        # Apps added later bring new permissions; give them to the roles too.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="xconnector-roles")
