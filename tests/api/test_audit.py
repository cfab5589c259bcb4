"""The audit trail through the API: the search page's filters, keyset pages,
one event with its chain proof, the CSV export and the evidence package
(each itself audited), the verification status; per role."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from typing import Any

import pytest

from audit import services
from audit.models import AuditEvent, EventType
from audit.services import Actor
from connectors import services as connection_services
from tests.api.conftest import assert_error
from tests.audit.helpers import FILTER_CASES, bypassing_append_only, raw_sql
from tests.audit.test_compliance_pages import trail  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/audit/events/"
EXPORT = "/api/v1/audit/events/export/"
EVIDENCE = "/api/v1/audit/evidence/"
VERIFICATION = "/api/v1/audit/verification/"
PASSWORD = "s3cret-Pa55word-otcs"


@pytest.fixture
def events(trail: list[AuditEvent]) -> list[AuditEvent]:  # noqa: F811
    """The compliance pages' six events, which differ in every filterable field."""
    return trail


def sequences(answer: Any) -> list[int]:
    assert answer.status_code == 200, answer.content[:500]
    return [event["sequence"] for event in answer.json()["results"]]


def csv_text(answer: Any) -> str:
    return b"".join(answer.streaming_content).decode()


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        *FILTER_CASES,
        # A range that ends before it starts holds nothing; the ends of the
        # calendar are no bound.
        ({"date_from": "2026-03-01", "date_to": "2026-01-01"}, []),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, [6, 5, 4, 3, 2, 1]),
    ],
)
def test_each_filter_returns_exactly_the_matching_events(
    api,
    events,
    query,
    expected,
):
    assert sequences(api["auditor"].get(EVENTS, query)) == expected


def test_an_event_has_every_field_of_the_chain(api, events):
    [event] = api["admin"].get(EVENTS, {"run": "11"}).json()["results"]

    assert event == {
        "sequence": 2,
        "occurred_at": "2026-01-06T12:00:00Z",
        "event_type": "transfer.failed",
        "actor_type": "system",
        "actor_id": None,
        "actor_name": "engine",
        "request_id": "",
        "correlation_id": "",
        "flow_id": 1,
        "run_id": 11,
        "connection_id": None,
        "system": "otcs",
        "business_object": "contract:C-1042",
        "document_ref": "billing:INV-2",
        "target_ref": "otcs:node/9002",
        "document_sha256": f"{2:064x}",
        "document_size": None,
        "summary": "event 2",
        "payload": {},
        "prev_hash": events[0].hash,
        "hash": events[1].hash,
    }


def test_events_come_in_keyset_pages_newest_first(api):
    for _ in range(120):
        services.record(EventType.RUN_STARTED, Actor.system("engine"))

    first = api["auditor"].get(EVENTS)
    second = api["auditor"].get(first.json()["next"])
    back = api["auditor"].get(second.json()["previous"])
    small = api["auditor"].get(EVENTS, {"page_size": 7, "actor": "engine"})

    assert set(first.json()) == {"next", "previous", "results"}  # never a count
    assert sequences(first) == list(range(120, 70, -1))
    assert sequences(second) == list(range(70, 20, -1))
    assert sequences(back) == list(range(120, 70, -1))
    assert sequences(small) == list(range(120, 113, -1))


def test_one_event_with_its_chain_proof(api, events):
    answer = api["auditor"].get(f"{EVENTS}2/")

    assert answer.status_code == 200
    body = answer.json()
    assert body["sequence"] == 2 and body["prev_hash"] == events[0].hash
    assert (body["previous"], body["next"]) == (1, 3)
    proof = body["proof"]
    assert proof["prev_hash"] == events[0].hash
    assert proof["hash"] == proof["recomputed"] == events[1].hash
    assert (proof["hash_ok"], proof["link_ok"]) == (True, True)
    assert json.loads(proof["canonical"])["summary"] == "event 2"
    assert api["auditor"].get(f"{EVENTS}1/").json()["previous"] is None
    assert api["auditor"].get(f"{EVENTS}6/").json()["next"] is None


def test_a_changed_event_fails_its_proof(api, events):
    with bypassing_append_only():
        raw_sql(
            "UPDATE audit_auditevent SET summary = %s WHERE sequence = 3",
            ["nothing happened"],
        )

    proof = api["auditor"].get(f"{EVENTS}3/").json()["proof"]

    assert proof["hash_ok"] is False and proof["link_ok"] is True
    assert proof["recomputed"] != proof["hash"] == events[2].hash


def test_unknown_events_and_bad_filters(api, events):
    auditor = api["auditor"]
    assert_error(auditor.get(f"{EVENTS}99/"), 404, "not_found")
    assert_error(auditor.get(f"{EVENTS}abc/"), 404, "not_found")
    for query, field in [
        ({"event_type": "run.exploded"}, "event_type"),
        ({"flow": "0"}, "flow"),
        ({"run": "twelve"}, "run"),
        ({"run": str(2**63)}, "run"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"actor": "a" * 151}, "actor"),
        ({"document": "d" * 501}, "document"),
        ({"date_to": ""}, "date_to"),  # empty is not "no filter" here
        ({"event_type": ""}, "event_type"),
    ]:
        body = assert_error(auditor.get(EVENTS, query), 400, "invalid")
        assert list(body["fields"]) == [field], query
        assert_error(auditor.get(EXPORT, query), 400, "invalid")
    assert not AuditEvent.objects.filter(event_type=EventType.EXPORT_MADE).exists()


@pytest.mark.parametrize(
    ("role", "read", "export"),
    [
        ("auditor", 200, 200),
        ("admin", 200, 403),
        ("reviewer", 403, 403),
        ("viewer", 403, 403),
        ("anonymous", 401, 401),
    ],
)
def test_who_may_search_read_and_export(api, events, role, read, export):
    client = api[role]
    codes = {401: "not_authenticated", 403: "permission_denied"}
    for url, status in [
        (EVENTS, read),
        (f"{EVENTS}1/", read),
        (VERIFICATION, read),
        (EXPORT, export),
        (EVIDENCE, export),
    ]:
        answer = client.get(url)
        if status == 200:
            assert answer.status_code == 200, url
        else:
            assert_error(answer, status, codes[status])
    exports = AuditEvent.objects.filter(event_type=EventType.EXPORT_MADE).count()
    assert exports == (2 if export == 200 else 0)


def test_the_csv_export_has_the_matching_events_and_no_secret(api, events):
    # given: a connection saved with a password, and an event whose payload
    # named a token
    connection_services.create_connection(
        Actor("user", "ada", 1),
        connector_key="otcs",
        name="Content Server",
        settings={"base_url": "https://otcs.example/api/", "username": "admin"},
        secrets={"password": PASSWORD},
    )
    services.record(
        EventType.RUN_STARTED,
        Actor.system("engine"),
        business_object="contract:C-1042",
        payload={"token": PASSWORD, "customer": "Contoso"},
    )

    # when
    everything = api["auditor"].get(EXPORT, HTTP_ACCEPT="text/csv")
    texts = [csv_text(everything)]  # streamed: read before the next export
    contract = api["auditor"].get(EXPORT, {"business_object": "contract:C-1042"})
    texts.append(csv_text(contract))

    # then
    assert everything.status_code == 200
    assert everything["Content-Type"] == "text/csv; charset=utf-8"
    assert everything["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = csv_rows(texts[0])
    assert [int(r["sequence"]) for r in rows] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert rows[8]["event_type"] == "export.made"  # this export, recorded first
    payload = json.loads(rows[7]["payload"])
    assert payload == {"token": "(secret)", "customer": "Contoso"}
    assert [r["hash"] for r in rows[:6]] == [e.hash for e in events]
    assert [int(r["sequence"]) for r in csv_rows(texts[1])] == [1, 2, 5, 8]
    token = api["auditor"]._credentials["HTTP_AUTHORIZATION"].split()[1]
    for text in texts:
        assert PASSWORD not in text
        assert token not in text
    # each export is an event naming the auditor and what was searched
    exports = AuditEvent.objects.filter(event_type=EventType.EXPORT_MADE)
    assert [(e.actor_name, e.payload) for e in exports.order_by("sequence")] == [
        ("aud", {"format": "csv", "filters": {}}),
        ("aud", {"format": "csv", "filters": {"business_object": "contract:C-1042"}}),
    ]


def test_the_evidence_package_holds_the_events_and_the_signed_head(api, events):
    answer = api["auditor"].get(
        EVIDENCE, {"date_to": "2026-02-02"}, HTTP_ACCEPT="application/zip"
    )

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))
    assert sorted(archive.namelist()) == ["README.txt", "events.csv", "manifest.json"]
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        assert (
            hashlib.sha256(archive.read(entry["name"])).hexdigest() == (entry["sha256"])
        )
    rows = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    assert [int(r["sequence"]) for r in rows] == [1, 2, 3, 4]
    assert manifest["filters"] == {"date_to": "2026-02-02"}
    assert manifest["generated_by"] == "aud"
    export = AuditEvent.objects.get(event_type=EventType.EXPORT_MADE)
    assert export.payload == {
        "format": "evidence-zip",
        "filters": {"date_to": "2026-02-02"},
    }
    assert manifest["signed_head"]["sequence"] == export.sequence == 7
    assert services.verify_signed_head(manifest["signed_head"]) == (
        True,
        "Event #7 still has the signed hash.",
    )


def test_the_verification_status_is_the_badges(api, events):
    # given: never verified
    before = api["admin"].get(VERIFICATION).json()
    assert before == {
        "status": "unverified",
        "message": "Not verified yet: the check runs every few minutes.",
        "last_run": None,
        "head": {"sequence": 6, "hash": events[-1].hash},
    }

    # when: the periodic check ran
    services.verify_and_store(full=True)
    intact = api["admin"].get(VERIFICATION).json()

    # then
    assert intact["status"] == "intact"
    assert intact["message"] == "Chain intact: verified up to event #6."
    run = intact["last_run"]
    assert (run["ok"], run["full"], run["events_verified"]) == (True, True, 6)
    assert (run["last_sequence"], run["last_hash"], run["broken_sequence"]) == (
        6,
        events[-1].hash,
        None,
    )

    # when: someone changed an event and the check ran again
    with bypassing_append_only():
        raw_sql("UPDATE audit_auditevent SET summary = 'x' WHERE sequence = 4")
    services.verify_and_store(full=True)
    broken = api["admin"].get(VERIFICATION).json()

    assert broken["status"] == "broken"
    assert broken["last_run"]["broken_sequence"] == 4
    assert broken["message"] == (
        "The chain is broken at event #4: its content was changed after it "
        "was recorded."
    )


def test_payloads_of_config_changes_keep_secrets_out(api):
    # The same connection change, seen through the search.
    connection_services.create_connection(
        Actor("user", "ada", 1),
        connector_key="otcs",
        name="Content Server",
        settings={"base_url": "https://otcs.example/api/", "username": "admin"},
        secrets={"password": PASSWORD},
    )

    answer = api["auditor"].get(EVENTS, {"event_type": "config.changed"})

    assert len(sequences(answer)) == 1
    assert PASSWORD not in answer.content.decode()
