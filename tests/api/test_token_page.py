"""The API tokens page: a token made in the browser works on the API once
copied, is shown only once, and stops working when revoked."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api.models import ApiToken
from audit.models import AuditEvent
from tests.factories import UserFactory
from xconnector import roles

pytestmark = pytest.mark.django_db


def test_a_token_made_on_the_page_works_until_revoked(client):
    user = UserFactory(username="rita", role=roles.REVIEWER)
    client.force_login(user)

    empty = client.get("/account/tokens/")
    assert "No tokens yet" in empty.text

    made = client.post("/account/tokens/", {"name": "Inbox script", "days": "30"})
    assert made.status_code == 200
    token = ApiToken.objects.get(user=user)
    key = made.text.split('id="new-token" readonly value="')[1].split('"')[0]
    assert key.startswith(token.token_key) and len(key) > 40
    assert "shown only this once" in made.text

    program = APIClient()
    program.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert program.get("/api/v1/tokens/").json()["results"][0]["name"] == "Inbox script"

    again = client.get("/account/tokens/")
    assert key not in again.text and "Inbox script" in again.text

    client.post("/account/tokens/", {"revoke": token.token_key})
    assert program.get("/api/v1/tokens/").status_code == 401
    assert list(
        AuditEvent.objects.order_by("sequence").values_list("summary", flat=True)
    )[-2:] == ["API token “Inbox script” created", "API token “Inbox script” revoked"]


def test_a_token_needs_a_name_and_a_lifetime_from_the_list(client):
    client.force_login(UserFactory(username="vic", role=roles.VIEWER))

    nameless = client.post("/account/tokens/", {"name": " ", "days": "30"})
    forever = client.post("/account/tokens/", {"name": "x", "days": "10000"})

    assert "Give the token a name" in nameless.text
    assert "Choose how long the token should work" in forever.text
    assert not ApiToken.objects.exists()


def test_someone_elses_token_cannot_be_revoked_from_the_page(client):
    other, _ = ApiToken.objects.create(user=UserFactory(username="ada"))
    client.force_login(UserFactory(username="vic", role=roles.VIEWER))

    client.post("/account/tokens/", {"revoke": other.token_key})

    assert ApiToken.objects.filter(pk=other.pk).exists()
