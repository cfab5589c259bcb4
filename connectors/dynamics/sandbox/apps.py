from __future__ import annotations

from django.apps import AppConfig


class DynamicsSandboxConfig(AppConfig):
    """State of the dynamics emulator under /sandbox/dynamics/ (demo and tests only)."""

    name = "connectors.dynamics.sandbox"
    label = "sandbox_dynamics"
    verbose_name = "Sandbox: dynamics emulator"
    default_auto_field = "django.db.models.BigAutoField"
