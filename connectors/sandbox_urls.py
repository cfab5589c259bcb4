"""The emulators of the external systems, mounted at /sandbox/<system>/.

Each connector package that has an ``emulator`` module with ``urlpatterns``
is mounted under its key. Only when XCONNECTOR_SANDBOX is on (the embedded
demo and the tests); never in production.
"""

from __future__ import annotations

import importlib

from django.urls import URLPattern, URLResolver, include, path

EMULATORS = ("http", "otcs", "dynamics", "exstream", "tradinggrid")


def _patterns() -> list[URLPattern | URLResolver]:
    patterns: list[URLPattern | URLResolver] = []
    for key in EMULATORS:
        module = importlib.import_module(f"connectors.{key}.emulator")
        # A namespace of its own, so an emulator's route names ("workspaces")
        # can never shadow the product's in reverse().
        patterns.append(
            path(
                f"{key}/",
                include((module.urlpatterns, key), namespace=f"sandbox-{key}"),
            )
        )
    return patterns


urlpatterns = _patterns()
