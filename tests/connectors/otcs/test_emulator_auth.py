"""The emulated Content Server: signing in, tickets, status calls."""

from __future__ import annotations

import time

import pytest
import requests

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")


@pytest.fixture
def api(live_server, settings, tmp_path) -> str:
    settings.VAR_DIR = tmp_path
    return f"{live_server.url}/sandbox/otcs/api"


def sign_in(api: str) -> str:
    answer = requests.post(
        f"{api}/v1/auth",
        data={"username": "admin", "password": "sandbox-admin"},
        timeout=10,
    )
    assert answer.status_code == 200
    return answer.json()["ticket"]


def test_signing_in_with_good_credentials_returns_a_ticket(api):
    # when
    answer = requests.post(
        f"{api}/v1/auth",
        data={"username": "admin", "password": "sandbox-admin", "domain": ""},
        timeout=10,
    )

    # then
    assert answer.status_code == 200
    assert list(answer.json()) == ["ticket"]
    assert len(answer.json()["ticket"]) > 20


def test_signing_in_with_a_json_body_works_too(api):
    # when
    answer = requests.post(
        f"{api}/v1/auth",
        json={"username": "admin", "password": "sandbox-admin"},
        timeout=10,
    )

    # then
    assert answer.status_code == 200


def test_a_wrong_password_is_a_401(api):
    # when
    answer = requests.post(
        f"{api}/v1/auth", data={"username": "admin", "password": "nope"}, timeout=10
    )

    # then
    assert answer.status_code == 401
    assert answer.json() == {"error": "Invalid username/password specified."}


def test_a_missing_argument_is_a_500(api):
    # when
    answer = requests.post(f"{api}/v1/auth", data={"password": "x"}, timeout=10)

    # then
    assert answer.status_code == 500
    assert answer.json() == {"error": "Argument username is required"}


def test_calls_without_a_ticket_are_refused(api):
    # when
    answers = [
        requests.get(f"{api}/v2/nodes/2000", timeout=10),
        requests.get(
            f"{api}/v2/nodes/2000", headers={"OTCSTicket": "forged"}, timeout=10
        ),
    ]

    # then
    assert [a.status_code for a in answers] == [401, 401]
    assert [a.json() for a in answers] == [{"error": "Authentication required."}] * 2


def test_every_successful_answer_carries_the_refreshed_ticket(api):
    # given
    ticket = sign_in(api)

    # when: the header name is case-insensitive
    answer = requests.get(
        f"{api}/v2/nodes/2000", headers={"otcsticket": ticket}, timeout=10
    )

    # then
    assert answer.status_code == 200
    assert answer.headers["OTCSTicket"] == ticket


def test_a_ticket_expires_after_inactivity(api, settings):
    # given
    settings.XCONNECTOR_SANDBOX_OTCS_TICKET_SECONDS = 1
    ticket = sign_in(api)
    used = requests.get(f"{api}/v1/auth", headers={"OTCSTicket": ticket}, timeout=10)

    # when
    time.sleep(1.5)
    late = requests.get(f"{api}/v1/auth", headers={"OTCSTicket": ticket}, timeout=10)

    # then
    assert used.status_code == 200
    assert late.status_code == 401
    assert late.json() == {"error": "Authentication required."}


def test_the_current_user_and_ticket_checks(api):
    # given
    ticket = sign_in(api)
    headers = {"OTCSTicket": ticket}

    # when
    who = requests.get(f"{api}/v1/auth", headers=headers, timeout=10)
    check = requests.head(f"{api}/v1/auth", headers=headers, timeout=10)
    out = requests.delete(f"{api}/v1/auth", headers=headers, timeout=10)
    after = requests.head(f"{api}/v1/auth", headers=headers, timeout=10)

    # then
    assert who.json()["data"]["id"] == 1000
    assert who.json()["data"]["name"] == "admin"
    assert [check.status_code, out.status_code, after.status_code] == [200, 200, 401]


def test_ping_and_serverinfo_need_no_ticket(api):
    # when
    ping = requests.get(f"{api}/v1/ping", timeout=10)
    info = requests.get(f"{api}/v1/serverinfo", timeout=10)

    # then
    assert ping.status_code == 200
    assert info.status_code == 200
    assert info.json()["server"]["version"] == "25.1.0"


def test_suppress_response_codes_answers_200_with_the_status_in_the_body(api):
    # when
    answer = requests.get(
        f"{api}/v2/nodes/2000", params={"suppress_response_codes": ""}, timeout=10
    )

    # then
    assert answer.status_code == 200
    assert answer.json() == {"error": "Authentication required.", "statusCode": 401}
