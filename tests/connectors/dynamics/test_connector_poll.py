"""Change tracking as a polling trigger."""

from __future__ import annotations

import pytest

from tests.connectors.dynamics.conftest import CONTOSO, FABRIKAM

pytestmark = [
    pytest.mark.urls("tests.connectors.dynamics.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def test_the_first_poll_reports_every_record_then_only_changes(dynamics, api, web):
    # given
    params = {"entity_set": "accounts", "select": ["name"]}

    # when
    first = dynamics.poll("changes", params, None)
    web.patch(f"{api}accounts({CONTOSO})", json={"name": "Contoso Group"}, timeout=10)
    web.delete(f"{api}accounts({FABRIKAM})", timeout=10)
    second = dynamics.poll("changes", params, first.cursor)
    third = dynamics.poll("changes", params, second.cursor)

    # then
    assert sorted(e.payload["record"]["name"] for e in first.events) == [
        "Contoso Ltd",
        "Fabrikam Inc",
        "Northwind Traders",
    ]
    assert "$deltatoken=" in first.cursor
    assert [(e.payload["id"], e.payload["reason"]) for e in second.events] == [
        (CONTOSO, "changed"),
        (FABRIKAM, "deleted"),
    ]
    assert second.events[0].payload["record"]["name"] == "Contoso Group"
    assert second.events[1].event_id == f"accounts:{FABRIKAM}:deleted"
    assert third.events == []


def test_changes_only_starts_from_now(dynamics, api, web):
    # given
    params = {"entity_set": "accounts", "initial": "changes_only"}

    # when
    first = dynamics.poll("changes", params, None)
    web.post(f"{api}accounts", json={"name": "Newcomer"}, timeout=10)
    second = dynamics.poll("changes", params, first.cursor)

    # then
    assert first.events == []
    assert [e.payload["record"]["name"] for e in second.events] == ["Newcomer"]


def test_a_repeated_poll_gives_the_same_event_ids(dynamics, api, web):
    # given
    params = {"entity_set": "accounts"}
    first = dynamics.poll("changes", params, None)
    web.patch(f"{api}accounts({CONTOSO})", json={"telephone1": "1"}, timeout=10)

    # when
    once = dynamics.poll("changes", params, first.cursor)
    twice = dynamics.poll("changes", params, first.cursor)

    # then
    assert [e.event_id for e in once.events] == [e.event_id for e in twice.events]
    assert len(once.events) == 1
