"""Engine tests run against the emulators of the live server."""

from __future__ import annotations

import pytest

from integrations.engine.connections import forget_connectors
from tests.integrations.flows import Systems, make_systems


@pytest.fixture
def sandbox(live_server, settings, tmp_path) -> str:
    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.XCONNECTOR_BLOB_DIR = tmp_path / "blobs"
    settings.VAR_DIR = tmp_path
    forget_connectors()
    yield live_server.url
    forget_connectors()


@pytest.fixture
def systems(sandbox, admin_user) -> Systems:
    return make_systems(sandbox, admin_user)
