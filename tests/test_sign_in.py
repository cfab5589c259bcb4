"""Sign-in, sign-out, login throttling and the pages behind the login."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt

from tests.factories import PASSWORD, UserFactory
from xconnector import roles

pytestmark = pytest.mark.django_db

SECTION_PAGES = [
    "/",
    "/connections/",
    "/flows/",
    "/runs/",
    "/tasks/",
    "/workspaces/",
    "/audit/",
]


@pytest.mark.parametrize("url", SECTION_PAGES)
def test_pages_send_anonymous_visitors_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize("url", SECTION_PAGES)
def test_signed_in_users_see_every_section(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 200
    assert b"Sign out" in response.content


def test_right_password_signs_in_and_lands_on_the_dashboard(client):
    UserFactory(username="rita", role=roles.REVIEWER)

    response = client.post("/login/", {"username": "rita", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").context["user"].username == "rita"


def test_wrong_password_says_so_and_keeps_the_username(client):
    UserFactory(username="rita")

    response = client.post("/login/", {"username": "rita", "password": "nope"})

    assert response.status_code == 200
    assert b"The username or password is not right." in response.content
    assert b'value="rita"' in response.content


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(username="rita")
    for _ in range(5):
        client.post("/login/", {"username": "rita", "password": "guess"})

    response = client.post("/login/", {"username": "rita", "password": PASSWORD})

    assert response.status_code == 429
    assert b"Too many wrong passwords" in response.content
    # The attempt made while locked counts too: five guesses plus this one.
    assert AccessAttempt.objects.get(username="rita").failures_since_start == 6


def test_sign_out_needs_a_post_and_ends_the_session(admin_client):
    assert admin_client.get("/logout/").status_code == 405

    response = admin_client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert admin_client.get("/").status_code == 302


def test_session_cookie_is_http_only_and_same_site(client):
    UserFactory(username="rita")

    response = client.post("/login/", {"username": "rita", "password": PASSWORD})

    cookie = response.cookies["xconnector_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_pages_carry_a_strict_content_security_policy(admin_client):
    policy = admin_client.get("/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_sign_in_sign_out_and_failures_are_audited_without_the_password(client):
    from audit.models import AuditEvent

    UserFactory(username="rita")
    client.post("/login/", {"username": "rita", "password": "wrong-guess"})
    client.post("/login/", {"username": "rita", "password": PASSWORD})
    client.post("/logout/")

    events = list(
        AuditEvent.objects.order_by("sequence").values_list(
            "event_type", "actor_name", "summary"
        )
    )
    assert events == [
        ("auth.login_failed", "sign-in", "Failed sign-in as “rita”"),
        ("auth.login", "rita", "rita signed in"),
        ("auth.logout", "rita", "rita signed out"),
    ]
    stored = str(list(AuditEvent.objects.values_list("payload", flat=True)))
    assert "wrong-guess" not in stored
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("role", "sees_audit"),
    [
        (roles.COMPLIANCE_AUDITOR, True),
        (roles.INTEGRATION_ADMIN, True),
        (roles.REVIEWER, False),
        (roles.VIEWER, False),
    ],
)
def test_the_menu_shows_audit_only_to_those_who_may_open_it(client, role, sees_audit):
    client.force_login(UserFactory(username="someone", role=role))

    labels = [item["label"] for item in client.get("/").context["navigation"]]

    assert ("Audit" in labels) is sees_audit
    assert labels[:6] == [
        "Dashboard",
        "Connections",
        "Flows",
        "Runs",
        "Tasks",
        "Workspaces",
    ]
