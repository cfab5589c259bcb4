"""The emulator-only fault injection: the next N calls fail."""

from __future__ import annotations

import pytest
import requests

from tests.connectors.otcs.test_emulator_nodes import Otcs

pytestmark = pytest.mark.urls("tests.connectors.otcs.sandbox_urls")


@pytest.fixture
def otcs(live_server, settings, tmp_path) -> Otcs:
    settings.VAR_DIR = tmp_path
    return Otcs(f"{live_server.url}/sandbox/otcs/api")


def test_the_next_calls_fail_then_service_resumes(otcs):
    # given
    queued = requests.post(
        f"{otcs.api}/v1/_sandbox/faults", data={"status": 503, "count": 2}, timeout=10
    )

    # when
    answers = [otcs.call("GET", "v2/nodes/2000") for _ in range(3)]

    # then
    assert queued.json() == {"faults": [{"status": 503, "remaining": 2, "rate": None}]}
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json() == {"error": "The server is temporarily busy."}
    assert answers[0].headers["Retry-After"] == "1"


def test_faults_come_before_the_ticket_check_and_can_be_cleared(otcs):
    # given
    requests.post(
        f"{otcs.api}/v1/_sandbox/faults",
        json={"status": 500, "count": 5, "message": "Database is down"},
        timeout=10,
    )

    # when
    failed = requests.get(f"{otcs.api}/v2/nodes/2000", timeout=10)
    cleared = requests.delete(f"{otcs.api}/v1/_sandbox/faults", timeout=10)
    after = otcs.call("GET", "v2/nodes/2000")

    # then
    assert (failed.status_code, failed.json()) == (500, {"error": "Database is down"})
    assert cleared.json() == {"faults": []}
    assert after.status_code == 200


def test_an_invalid_fault_is_a_400(otcs):
    # when
    answer = requests.post(
        f"{otcs.api}/v1/_sandbox/faults", data={"status": 404}, timeout=10
    )

    # then
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "status must be 0, 429, 500, 502, 503 or 504; count 1..100."
    }


def test_a_share_of_calls_fails_until_cleared(otcs):
    # given: every call answers 429 with Retry-After 2 (a share of 1.0)
    requests.post(
        f"{otcs.api}/v1/_sandbox/faults",
        data={"status": 429, "rate": 1, "seconds": 2},
        timeout=10,
    )

    # when
    calls = [requests.get(f"{otcs.api}/v1/serverinfo", timeout=10) for _ in range(3)]
    requests.delete(f"{otcs.api}/v1/_sandbox/faults", timeout=10)
    after = requests.get(f"{otcs.api}/v1/serverinfo", timeout=10)

    # then
    assert [(c.status_code, c.headers["Retry-After"]) for c in calls] == [
        (429, "2")
    ] * 3
    assert after.status_code == 200


def test_a_slow_answer_comes_after_the_work_is_done(otcs):
    # given: the next call answers only after 1.5 seconds
    requests.post(
        f"{otcs.api}/v1/_sandbox/faults",
        data={"status": 0, "count": 1, "seconds": 1.5, "after": "true"},
        timeout=10,
    )

    # when: the caller gives up after half a second
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{otcs.api}/v1/serverinfo", timeout=(5, 0.5))
    again = requests.get(f"{otcs.api}/v1/serverinfo", timeout=10)

    # then: the fault was used up; the next call is answered at once
    assert again.status_code == 200
