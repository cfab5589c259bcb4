"""API clients per role, each with a real API token (knox, hashed)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from api.models import ApiToken
from tests.factories import UserFactory
from xconnector import roles

ROLE_USERS = {
    "admin": ("ada", roles.INTEGRATION_ADMIN),
    "reviewer": ("rita", roles.REVIEWER),
    "auditor": ("aud", roles.COMPLIANCE_AUDITOR),
    "viewer": ("vic", roles.VIEWER),
}


def client_with_token(user: Any) -> APIClient:
    _, key = ApiToken.objects.create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def api(db) -> dict[str, APIClient]:
    """``api["admin"]``, ``api["reviewer"]``, ``api["auditor"]``,
    ``api["viewer"]``: token clients; ``api["anonymous"]``: no credentials."""
    clients = {
        name: client_with_token(UserFactory(username=username, role=role))
        for name, (username, role) in ROLE_USERS.items()
    }
    clients["anonymous"] = APIClient()
    return clients


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The API's one error shape, with this status and machine code."""
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body
