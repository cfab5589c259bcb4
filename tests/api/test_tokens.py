"""API tokens: created with a password or a session, hashed, expiring,
revocable, throttled; and the one error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from audit.models import AuditEvent, EventType
from tests.api.conftest import assert_error
from tests.factories import PASSWORD, UserFactory
from xconnector import roles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def test_a_token_made_with_a_password_works_and_is_stored_hashed():
    # given
    UserFactory(username="ada", role=roles.INTEGRATION_ADMIN)
    client = APIClient()

    # when
    made = client.post(
        "/api/v1/tokens/",
        {"username": "ada", "password": PASSWORD, "name": "CI pipeline"},
        format="json",
    )

    # then
    assert made.status_code == 201, made.content
    body = made.json()
    key = body["token"]
    assert body["name"] == "CI pipeline" and body["user"] == "ada"
    assert key.startswith(body["id"])
    stored = ApiToken.objects.get()
    assert key not in (stored.digest, stored.token_key) and len(stored.digest) == 128
    assert timedelta(days=89) < stored.expiry - timezone.now() <= timedelta(days=90)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/connections/").status_code == 200
    # The list never shows the token itself again.
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert key not in str(listed)
    created = AuditEvent.objects.get(event_type=EventType.CONFIG_CHANGED)
    assert created.summary == "API token “CI pipeline” created"
    assert key not in str(created.payload)


def test_a_wrong_password_gets_401_and_no_token():
    UserFactory(username="ada", role=roles.INTEGRATION_ADMIN)

    answer = APIClient().post(
        "/api/v1/tokens/", {"username": "ada", "password": "nope"}, format="json"
    )

    body = assert_error(answer, 401, "authentication_failed")
    assert "user name or password is not right" in body["message"]
    assert not ApiToken.objects.exists()


def test_repeated_wrong_passwords_lock_the_user_name_and_then_the_address():
    UserFactory(username="ada", role=roles.INTEGRATION_ADMIN)
    client = APIClient()

    def attempt(username="ada", password="wrong"):
        return client.post(
            "/api/v1/tokens/",
            {"username": username, "password": password},
            format="json",
        )

    # The fifth wrong password locks the user name, for the right one too.
    assert [attempt().status_code for _ in range(4)] == [401] * 4
    body = assert_error(attempt(), 429, "locked_out")
    assert "sign-in is paused for 15 minutes" in body["message"]
    assert_error(attempt(password=PASSWORD), 429, "locked_out")
    assert not ApiToken.objects.exists()
    # Ten sign-ins a minute from one address, whatever the user names.
    for number in range(4):
        assert attempt(username=f"someone{number}").status_code == 401
    body = assert_error(attempt(username="other"), 429, "throttled")
    assert "wait" in body["message"]


def test_a_revoked_or_expired_token_stops_working(api):
    client = api["viewer"]
    token = ApiToken.objects.get(user=client.user)

    # when: revoked by its owner
    assert client.delete(f"/api/v1/tokens/{token.token_key}/").status_code == 204

    # then
    assert_error(client.get("/api/v1/connections/"), 401, "authentication_failed")

    # and an expired token is refused in the same words
    _, key = ApiToken.objects.create(user=client.user, expiry=timedelta(days=1))
    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    expired = APIClient()
    expired.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert_error(expired.get("/api/v1/connections/"), 401, "authentication_failed")


def test_users_see_and_revoke_only_their_own_tokens_admins_all(api):
    viewer_token = ApiToken.objects.get(user=api["viewer"].user)
    reviewer_token = ApiToken.objects.get(user=api["reviewer"].user)

    mine = api["viewer"].get("/api/v1/tokens/").json()["results"]
    assert [t["user"] for t in mine] == ["vic"]
    assert_error(
        api["viewer"].delete(f"/api/v1/tokens/{reviewer_token.token_key}/"),
        404,
        "not_found",
    )
    every = api["admin"].get("/api/v1/tokens/").json()["results"]
    assert sorted(t["user"] for t in every) == ["ada", "aud", "rita", "vic"]
    assert (
        api["admin"].delete(f"/api/v1/tokens/{viewer_token.token_key}/").status_code
        == 204
    )
    assert not ApiToken.objects.filter(pk=viewer_token.pk).exists()


def test_expiry_is_chosen_within_a_year():
    UserFactory(username="ada", role=roles.INTEGRATION_ADMIN)
    client = APIClient()
    too_long = client.post(
        "/api/v1/tokens/",
        {"username": "ada", "password": PASSWORD, "expires_in_days": 400},
        format="json",
    )
    body = assert_error(too_long, 400, "invalid")
    assert list(body["fields"]) == ["expires_in_days"]
    week = client.post(
        "/api/v1/tokens/",
        {"username": "ada", "password": PASSWORD, "expires_in_days": 7},
        format="json",
    )
    assert week.status_code == 201
    expiry = ApiToken.objects.get().expiry - timezone.now()
    assert timedelta(days=6) < expiry <= timedelta(days=7)


def test_errors_have_one_shape(api):
    assert_error(api["anonymous"].get("/api/v1/connections/"), 401, "not_authenticated")
    assert_error(
        api["viewer"].post("/api/v1/connections/", {}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(api["admin"].get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(api["admin"].get("/api/v1/connections/999999/"), 404, "not_found")
    assert_error(
        api["admin"].put("/api/v1/connectors/otcs/", {}, format="json"),
        405,
        "method_not_allowed",
    )
    bad_json = api["admin"].generic(
        "POST", "/api/v1/connections/", "{not json", content_type="application/json"
    )
    body = assert_error(bad_json, 400, "parse_error")
    assert body["request_id"] == bad_json["X-Request-ID"]
    form = api["admin"].post("/api/v1/connections/", {"name": "x"})  # multipart
    assert_error(form, 415, "unsupported_media_type")


def test_a_user_has_at_most_20_working_tokens(api):
    client = api["viewer"]  # already holds one
    made = [
        client.post("/api/v1/tokens/", {"name": f"job {n}"}, format="json")
        for n in range(20)
    ]

    assert [m.status_code for m in made] == [201] * 19 + [409]
    body = assert_error(made[-1], 409, "conflict")
    assert "already has 20 working tokens" in body["message"]


def test_a_nul_character_anywhere_in_a_body_is_refused_in_words(api):
    answer = api["admin"].post(
        "/api/v1/connections/",
        {"name": "ok", "settings": {"deep": ["fine", "not\u0000fine"]}},
        format="json",
    )

    body = assert_error(answer, 400, "parse_error")
    assert "NUL character" in body["message"]
