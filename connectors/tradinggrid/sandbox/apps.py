from __future__ import annotations

from django.apps import AppConfig


class TradinggridSandboxConfig(AppConfig):
    """State of the Trading Grid emulator (/sandbox/tradinggrid/; demo and tests)."""

    name = "connectors.tradinggrid.sandbox"
    label = "sandbox_tradinggrid"
    verbose_name = "Sandbox: tradinggrid emulator"
    default_auto_field = "django.db.models.BigAutoField"
