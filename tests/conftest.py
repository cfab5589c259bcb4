"""Shared fixtures."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory
from xconnector import roles


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", role=roles.INTEGRATION_ADMIN)


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client
