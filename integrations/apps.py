from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Flows, runs, transfers, review tasks and the engine that runs them."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from connectors.webhook.delivery import event_accepted
        from integrations.triggers import on_connection_delivery

        event_accepted.connect(on_connection_delivery, dispatch_uid="flows-start")
