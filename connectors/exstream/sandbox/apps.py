from __future__ import annotations

from django.apps import AppConfig


class ExstreamSandboxConfig(AppConfig):
    """State of the exstream emulator under /sandbox/exstream/ (demo and tests only)."""

    name = "connectors.exstream.sandbox"
    label = "sandbox_exstream"
    verbose_name = "Sandbox: exstream emulator"
    default_auto_field = "django.db.models.BigAutoField"
