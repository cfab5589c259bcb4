from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Tamper-evident audit events, verification and export."""

    name = "audit"
    verbose_name = "Audit trail"
