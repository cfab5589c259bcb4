"""URLs for tests of the Exstream emulator and connector: only this emulator,
in the namespace the sandbox gives it."""

from __future__ import annotations

from django.urls import include, path

import connectors.exstream.emulator as emulator

urlpatterns = [
    path(
        "sandbox/exstream/",
        include((emulator.urlpatterns, "exstream"), namespace="sandbox-exstream"),
    )
]
