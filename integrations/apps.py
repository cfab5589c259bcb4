from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Flows, runs, transfers, review tasks and the engine that runs them."""

    name = "integrations"
    verbose_name = "Integrations"
