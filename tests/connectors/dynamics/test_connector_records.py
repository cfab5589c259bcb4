"""Reading and writing records with the connector, against the emulator."""

from __future__ import annotations

import pytest

from connectors.dynamics.client import RecordChangedError, RecordNotFoundError
from connectors.errors import PermanentError
from tests.connectors.dynamics.conftest import CONTOSO, FABRIKAM, YVONNE, run

pytestmark = [
    pytest.mark.urls("tests.connectors.dynamics.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def test_check_signs_in_and_reads_an_account(dynamics, live_server):
    # when
    result = dynamics.check()

    # then
    assert result.message == (
        "Signed in to localhost as app sandbox-client; accounts readable"
    )


def test_query_reads_every_page_up_to_the_limit(dynamics, api, web):
    # given twelve more accounts and pages of five
    for number in range(12):
        web.post(f"{api}accounts", json={"name": f"Bulk {number:02}"}, timeout=10)
    dynamics.config.page_size = 5

    # when
    everything = run(
        dynamics,
        "query",
        {
            "entity_set": "accounts",
            "select": ["name"],
            "filter": "startswith(name,'Bulk')",
            "orderby": "name",
        },
    )
    limited = run(
        dynamics,
        "query",
        {"entity_set": "accounts", "filter": "startswith(name,'Bulk')", "limit": 7},
    )

    # then
    assert everything["count"] == 12
    assert everything["truncated"] is False
    assert [r["name"] for r in everything["records"]][:3] == [
        "Bulk 00",
        "Bulk 01",
        "Bulk 02",
    ]
    assert limited["count"] == 7
    assert limited["truncated"] is True


def test_query_expands_a_lookup(dynamics):
    # when
    found = run(
        dynamics,
        "query",
        {
            "entity_set": "contacts",
            "select": ["fullname"],
            "filter": "lastname eq 'McKay'",
            "expand": "parentcustomerid_account($select=name)",
        },
    )

    # then
    assert found["records"][0]["fullname"] == "Yvonne McKay"
    assert found["records"][0]["parentcustomerid_account"]["name"] == "Contoso Ltd"


def test_get_by_id_and_by_alternate_key(dynamics):
    # when
    by_id = run(dynamics, "get", {"entity_set": "contacts", "id": YVONNE})
    by_key = run(
        dynamics,
        "get",
        {"entity_set": "accounts", "alternate_key": {"accountnumber": "A2"}},
    )

    # then
    assert by_id["id"] == YVONNE
    assert by_id["record"]["_parentcustomerid_value"] == CONTOSO
    assert by_key["id"] == FABRIKAM
    assert by_key["record"]["name"] == "Fabrikam Inc"
    assert by_key["etag"].startswith('W/"')


def test_an_unknown_record_is_a_permanent_error_naming_it(dynamics):
    # when
    with pytest.raises(RecordNotFoundError) as raised:
        run(
            dynamics,
            "get",
            {"entity_set": "accounts", "alternate_key": {"accountnumber": "ZZ"}},
        )

    # then
    assert raised.value.status == 404
    assert raised.value.message == (
        "Dynamics 365 could not find the account with accountnumber “ZZ”: check "
        "the id or key, and that the app user may read it. Dynamics 365 said: A "
        "record with the specified key values does not exist in account entity."
    )


def test_create_is_safe_to_repeat_with_the_same_idempotency_key(dynamics, api, web):
    # given
    values = {
        "entity_set": "contacts",
        "values": {
            "firstname": "Ada",
            "lastname": "Lovelace",
            "parentcustomerid_account@odata.bind": f"/accounts({CONTOSO})",
        },
    }

    # when
    first = run(dynamics, "create", values, key="run-7:create")
    again = run(dynamics, "create", values, key="run-7:create")

    # then
    assert first["created"] is True
    assert again["created"] is False
    assert again["id"] == first["id"]
    assert first["record"]["fullname"] == "Ada Lovelace"
    assert first["record"]["_parentcustomerid_value"] == CONTOSO
    matching = web.get(
        f"{api}contacts", params={"$filter": "lastname eq 'Lovelace'"}, timeout=10
    )
    assert len(matching.json()["value"]) == 1


def test_create_without_a_key_posts(dynamics):
    # when
    created = run(
        dynamics, "create", {"entity_set": "incidents", "values": {"title": "Broken"}}
    )

    # then
    assert created["created"] is True
    assert created["record"]["title"] == "Broken"
    assert created["record"]["ticketnumber"].startswith("CAS-")


def test_update_with_the_etag_read_succeeds_once(dynamics):
    # given
    read = run(dynamics, "get", {"entity_set": "accounts", "id": FABRIKAM})
    update = {
        "entity_set": "accounts",
        "id": FABRIKAM,
        "etag": read["etag"],
        "values": {"telephone1": "+49 30 1"},
    }

    # when
    updated = run(dynamics, "update", update)
    with pytest.raises(RecordChangedError) as raised:
        run(dynamics, "update", {**update, "values": {"telephone1": "+49 30 2"}})

    # then
    assert updated["record"]["telephone1"] == "+49 30 1"
    assert updated["etag"] != read["etag"]
    assert raised.value.status == 412
    assert raised.value.message == (
        f"The account with id {FABRIKAM} changed in Dynamics 365 since it was "
        "read: read it again and repeat the update."
    )


def test_update_of_a_missing_record_does_not_create_it(dynamics):
    # when
    with pytest.raises(RecordNotFoundError):
        run(
            dynamics,
            "update",
            {
                "entity_set": "accounts",
                "id": "00000000-0000-4000-8000-00000000dead",
                "values": {"name": "Ghost"},
            },
        )


def test_upsert_creates_then_updates(dynamics):
    # given
    upsert = {"entity_set": "accounts", "alternate_key": {"accountnumber": "U1"}}

    # when
    created = run(dynamics, "upsert", {**upsert, "values": {"name": "Up One"}})
    updated = run(dynamics, "upsert", {**upsert, "values": {"name": "Up Uno"}})

    # then
    assert created["created"] is True
    assert updated["created"] is False
    assert updated["id"] == created["id"]
    assert updated["record"]["name"] == "Up Uno"


def test_a_bad_filter_is_a_permanent_error_with_dataverse_words(dynamics):
    # when
    with pytest.raises(PermanentError) as raised:
        run(dynamics, "query", {"entity_set": "accounts", "filter": "colour eq 'red'"})

    # then
    assert raised.value.status == 400
    assert raised.value.message == (
        "Dynamics 365 refused the request: Could not find a property named "
        "'colour' on type 'Microsoft.Dynamics.CRM.account'."
    )
