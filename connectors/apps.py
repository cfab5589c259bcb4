from __future__ import annotations

from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    """Connector contract, registry, connections and the system emulators."""

    name = "connectors"
    verbose_name = "Connectors"

    def ready(self) -> None:
        # Registers the system check that reports connectors that fail to load.
        from connectors import registry  # noqa: F401
