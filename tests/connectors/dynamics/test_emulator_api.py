"""The emulated Web API answers as EXTERNAL_APIS.md section 4 documents."""

from __future__ import annotations

import pytest
import requests

from tests.connectors.dynamics.conftest import CONTOSO, FABRIKAM, YVONNE, inject

pytestmark = [
    pytest.mark.urls("tests.connectors.dynamics.sandbox_urls"),
    pytest.mark.django_db(transaction=True),
]


def test_query_options_filter_order_select_top_and_count(api, web):
    # when
    answer = web.get(
        f"{api}accounts",
        params={
            "$select": "name,accountnumber",
            "$filter": "(startswith(name,'Con') or contains(name,'wind')) "
            "and statecode eq 0",
            "$orderby": "name desc",
            "$count": "true",
            "$top": "5",
        },
        timeout=10,
    )

    # then
    body = answer.json()
    assert answer.status_code == 200
    assert body["@odata.count"] == 2
    assert [(r["name"], r["accountnumber"]) for r in body["value"]] == [
        ("Northwind Traders", "A3"),
        ("Contoso Ltd", "A1"),
    ]
    assert set(body["value"][0]) == {
        "@odata.etag",
        "name",
        "accountnumber",
        "accountid",
    }
    assert body["value"][0]["@odata.etag"].startswith('W/"')


def test_expand_one_level_with_a_nested_select(api, web):
    # when
    answer = web.get(
        f"{api}contacts({YVONNE})",
        params={
            "$select": "fullname",
            "$expand": "parentcustomerid_account($select=name)",
        },
        timeout=10,
    )

    # then
    body = answer.json()
    assert body["fullname"] == "Yvonne McKay"
    assert body["parentcustomerid_account"]["name"] == "Contoso Ltd"
    assert body["parentcustomerid_account"]["accountid"] == CONTOSO


def test_paging_follows_next_links_with_a_skiptoken(api, web):
    # when
    first = web.get(
        f"{api}accounts",
        params={"$select": "name", "$orderby": "name"},
        headers={"Prefer": "odata.maxpagesize=2"},
        timeout=10,
    )
    second = web.get(first.json()["@odata.nextLink"], timeout=10)

    # then
    assert first.headers["Preference-Applied"] == "odata.maxpagesize=2"
    assert [r["name"] for r in first.json()["value"]] == ["Contoso Ltd", "Fabrikam Inc"]
    assert "$skiptoken=" in first.json()["@odata.nextLink"]
    assert [r["name"] for r in second.json()["value"]] == ["Northwind Traders"]
    assert "@odata.nextLink" not in second.json()


def test_skip_is_not_supported(api, web):
    # when
    answer = web.get(f"{api}accounts", params={"$skip": "1"}, timeout=10)

    # then
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == (
        "The query parameter $skip is not supported."
    )


def test_create_answers_204_with_the_entity_id_or_201_with_the_record(api, web):
    # when
    plain = web.post(f"{api}accounts", json={"name": "Alpine Ski House"}, timeout=10)
    represented = web.post(
        f"{api}accounts",
        json={"name": "Blue Yonder"},
        headers={"Prefer": "return=representation"},
        timeout=10,
    )

    # then
    assert plain.status_code == 204
    assert plain.headers["OData-EntityId"].startswith(f"{api}accounts(")
    assert represented.status_code == 201
    assert represented.json()["name"] == "Blue Yonder"
    assert represented.json()["statecode"] == 0
    assert represented.json()["statuscode"] == 1


def test_alternate_key_and_etag_concurrency(api, web):
    # given
    read = web.get(f"{api}accounts(accountnumber='A2')", timeout=10)
    etag = read.json()["@odata.etag"]

    # when
    first = web.patch(
        f"{api}accounts({FABRIKAM})",
        json={"telephone1": "+49 30 1234"},
        headers={"If-Match": etag},
        timeout=10,
    )
    stale = web.patch(
        f"{api}accounts({FABRIKAM})",
        json={"telephone1": "+49 30 9999"},
        headers={"If-Match": etag},
        timeout=10,
    )

    # then
    assert read.json()["accountid"] == FABRIKAM
    assert first.status_code == 204
    assert stale.status_code == 412
    assert stale.json() == {
        "error": {
            "code": "0x80060882",
            "message": "The version of the existing record doesn't match the "
            "RowVersion property provided.",
        }
    }
    assert (
        web.get(f"{api}accounts({FABRIKAM})", timeout=10).json()["telephone1"]
        == "+49 30 1234"
    )


def test_patch_without_if_match_is_an_upsert_and_delete_removes(api, web):
    # when
    created = web.patch(
        f"{api}accounts(accountnumber='A9')",
        json={"name": "Upserted"},
        headers={"Prefer": "return=representation"},
        timeout=10,
    )
    record_id = created.json()["accountid"]
    deleted = web.delete(f"{api}accounts({record_id})", timeout=10)
    gone = web.get(f"{api}accounts({record_id})", timeout=10)

    # then
    assert created.status_code == 201
    assert created.json()["accountnumber"] == "A9"
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert gone.json()["error"] == {
        "code": "0x80040217",
        "message": f"account With Id = {record_id} Does Not Exist",
    }


def test_if_match_star_updates_only(api, web):
    # when
    answer = web.patch(
        f"{api}accounts(00000000-0000-4000-8000-00000000beef)",
        json={"name": "Nobody"},
        headers={"If-Match": "*"},
        timeout=10,
    )

    # then
    assert answer.status_code == 404


def test_unknown_columns_and_tables_are_refused(api, web):
    # when
    column = web.get(
        f"{api}accounts", params={"$filter": "colour eq 'red'"}, timeout=10
    )
    table = web.get(f"{api}spaceships", timeout=10)

    # then
    assert column.status_code == 400
    assert column.json()["error"]["message"] == (
        "Could not find a property named 'colour' on type "
        "'Microsoft.Dynamics.CRM.account'."
    )
    assert table.status_code == 404
    assert table.json()["error"] == {
        "code": "0x8006088a",
        "message": "Resource not found for the segment 'spaceships'.",
    }


def test_throttling_answers_429_with_retry_after(sandbox, api, web):
    # given
    inject(sandbox, status=429, count=1, seconds=7)

    # when
    throttled = web.get(f"{api}accounts", timeout=10)
    after = web.get(f"{api}accounts", timeout=10)

    # then
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"]["code"] == "0x80072322"
    assert after.status_code == 200


def test_change_tracking_reports_changes_and_deletions(api, web):
    # given
    initial = web.get(
        f"{api}accounts",
        params={"$select": "name"},
        headers={"Prefer": "odata.track-changes"},
        timeout=10,
    ).json()
    web.patch(f"{api}accounts({CONTOSO})", json={"name": "Contoso Group"}, timeout=10)
    web.delete(f"{api}accounts({FABRIKAM})", timeout=10)

    # when
    delta = web.get(initial["@odata.deltaLink"], timeout=10).json()

    # then
    assert len(initial["value"]) == 3
    assert [item.get("name") for item in delta["value"]] == ["Contoso Group", None]
    assert delta["value"][1]["id"] == FABRIKAM
    assert delta["value"][1]["reason"] == "deleted"
    assert delta["value"][1]["@odata.context"].endswith(
        "$metadata#accounts/$deletedEntity"
    )
    assert web.get(delta["@odata.deltaLink"], timeout=10).json()["value"] == []


def test_metadata_is_csdl(api, web):
    # when
    answer = web.get(f"{api}$metadata", timeout=10)

    # then
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/xml"
    assert (
        '<EntitySet Name="accounts" EntityType="Microsoft.Dynamics.CRM.account">'
        in (answer.text)
    )


def test_a_request_without_a_token_is_401(api):
    # when
    answer = requests.get(f"{api}accounts", timeout=10)

    # then
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "0x80072560"
