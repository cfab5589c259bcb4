from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The emulators' own data: nodes, versions, tickets... of the systems
    xConnector talks to, served under /sandbox/<system>/. Never used by the
    product itself; production runs with XCONNECTOR_SANDBOX off."""

    name = "connectors.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox (emulated systems)"
