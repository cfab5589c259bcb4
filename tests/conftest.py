"""Shared fixtures."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory
from xconnector import roles


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the dashboard keeps figures)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", role=roles.INTEGRATION_ADMIN)


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture(autouse=True, scope="session")
def _close_connections_after_each_request():
    """The live server answers each request in a new thread; with persistent
    connections (``CONN_MAX_AGE``) every one of those threads would leave a
    PostgreSQL connection open until it is garbage-collected, and a test
    that posts 200 webhooks runs out of connections. Production threads are
    long-lived, so only tests close a connection at the end of each request.
    """
    from django.db import connections

    connections.settings["default"]["CONN_MAX_AGE"] = 0
    yield


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Tests hash passwords with a fast hasher (Django's advice for tests).

    The Content Server emulator checks its user's password on every sign-in;
    with the production hasher each check costs 0.3 s of CPU, and on a
    loaded 2-core machine eight concurrent sign-ins outlast the 2-second
    read timeout of the fault tests, so every attempt met a timeout.
    """
    from django.test.utils import override_settings

    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    ):
        yield


@pytest.fixture
def woken(monkeypatch) -> list[int]:
    """Runs that would have woken a worker; no broker is involved."""
    from integrations.engine import claims

    calls: list[int] = []
    monkeypatch.setattr(claims, "wake", lambda run_id, delay=0.0: calls.append(run_id))
    return calls


@pytest.fixture
def sandbox(live_server, settings, tmp_path) -> Any:
    """The live server's address, its emulators reachable by the connectors."""
    from integrations.engine.connections import forget_connectors

    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.XCONNECTOR_BLOB_DIR = tmp_path / "blobs"
    settings.VAR_DIR = tmp_path
    forget_connectors()
    yield live_server.url
    forget_connectors()


@pytest.fixture
def systems(sandbox, admin_user) -> Any:
    """Connections to the emulators: Content Server, the orders API, a webhook."""
    from tests.integrations.flows import make_systems

    return make_systems(sandbox, admin_user)


@pytest.fixture
def dynamics(systems, live_server, admin_user) -> Any:
    """A connection to the Dynamics 365 emulator, beside the ``systems``."""
    from audit.services import Actor
    from connectors import services as connection_services
    from tests.connectors.dynamics.contract import dynamics_case

    settings, secrets = dynamics_case(live_server)
    return connection_services.create_connection(
        Actor.user(admin_user),
        connector_key="dynamics",
        name="Dynamics 365",
        settings=settings,
        secrets=secrets,
    )
