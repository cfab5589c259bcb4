"""Compliance staff search, read and export the trail; others cannot."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.test import Client

from audit import canonical, services
from audit.models import AuditEvent, EventType
from audit.services import Actor
from tests.audit.helpers import FILTER_CASES
from tests.factories import UserFactory
from xconnector import roles

pytestmark = pytest.mark.django_db


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(username=role.split()[0].lower(), role=role))
    return client


@pytest.fixture
def auditor() -> Client:
    return client_for(roles.COMPLIANCE_AUDITOR)


@pytest.fixture
def trail() -> list[AuditEvent]:
    """Six events that differ in every filterable field."""
    rows = [
        (
            "2026-01-05",
            EventType.DOCUMENT_TRANSFERRED,
            "engine",
            1,
            10,
            "otcs",
            "contract:C-1042",
            "billing:INV-1",
        ),
        (
            "2026-01-06",
            EventType.TRANSFER_FAILED,
            "engine",
            1,
            11,
            "otcs",
            "contract:C-1042",
            "billing:INV-2",
        ),
        (
            "2026-02-01",
            EventType.TASK_OPENED,
            "engine",
            2,
            12,
            "dynamics",
            "account:A-7",
            "",
        ),
        (
            "2026-02-02",
            EventType.TASK_RESOLVED,
            "rita",
            2,
            12,
            "dynamics",
            "account:A-7",
            "",
        ),
        (
            "2026-03-10",
            EventType.APPROVAL_GRANTED,
            "rita",
            3,
            13,
            "exstream",
            "contract:C-1042",
            "letters:L-9",
        ),
        ("2026-03-11", EventType.CONFIG_CHANGED, "ada", None, None, "", "", ""),
    ]
    events = []
    for n, (day, kind, who, flow, run, system, obj, doc) in enumerate(rows, start=1):
        actor = Actor.system(who) if who == "engine" else Actor("user", who, n)
        events.append(
            services.record(
                kind,
                actor,
                summary=f"event {n}",
                flow_id=flow,
                run_id=run,
                system=system,
                business_object=obj,
                document_ref=doc,
                target_ref=f"otcs:node/{9000 + n}" if doc else "",
                document_sha256=f"{n:064x}" if doc else "",
                occurred_at=datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC),
            )
        )
    return events


def sequences(response) -> list[int]:
    return [event.sequence for event in response.context["page"].events]


@pytest.mark.parametrize(("query", "expected"), FILTER_CASES)
def test_each_filter_returns_exactly_the_matching_events(
    auditor, trail, query, expected
):
    response = auditor.get("/audit/", query)

    assert response.status_code == 200
    assert sequences(response) == expected


def test_pages_are_keyset_pages_of_fifty(auditor):
    for _ in range(120):
        services.record(EventType.RUN_STARTED, Actor.system("engine"))

    first = auditor.get("/audit/")
    second = auditor.get("/audit/", {"before": first.context["page"].older})
    back = auditor.get("/audit/", {"after": second.context["page"].newer})

    assert sequences(first) == list(range(120, 70, -1))
    assert sequences(second) == list(range(70, 20, -1))
    assert sequences(back) == list(range(120, 70, -1))


def test_a_reversed_date_range_says_what_is_wrong(auditor, trail):
    response = auditor.get(
        "/audit/", {"date_from": "2026-03-01", "date_to": "2026-01-01"}
    )

    assert "“From” must be on or before “To”." in response.content.decode()


def test_days_at_the_ends_of_the_calendar_are_no_limit(auditor, trail):
    page = auditor.get("/audit/", {"date_from": "0001-01-01", "date_to": "9999-12-31"})

    assert page.status_code == 200
    assert sequences(page) == sorted((e.sequence for e in trail), reverse=True)[:50]


def test_event_detail_shows_its_chain_proof(auditor, trail):
    response = auditor.get("/audit/events/2/")

    assert response.status_code == 200
    assert response.context["proof"]["hash_ok"] is True
    assert response.context["proof"]["link_ok"] is True
    assert trail[0].hash in response.content.decode()  # the previous hash
    assert b'data-proof="ok"' in response.content


def test_timeline_lists_everything_for_one_business_object_in_order(auditor, trail):
    response = auditor.get("/audit/timeline/", {"object": "contract:C-1042"})

    assert [e.sequence for e in response.context["events"]] == [1, 2, 5]


def test_csv_export_streams_the_filtered_events_and_is_itself_audited(auditor, trail):
    response = auditor.get("/audit/export.csv", {"business_object": "contract:C-1042"})

    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [int(r["sequence"]) for r in rows] == [1, 2, 5]
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    # Every row carries what an auditor needs to re-compute its hash.
    first = rows[0]
    recomputed = canonical.chain_hash(
        first["prev_hash"],
        {
            **{k: first[k] for k in canonical.HASHED_FIELDS},
            "sequence": 1,
            "actor_id": None,
            "flow_id": 1,
            "run_id": 10,
            "connection_id": None,
            "document_size": None,
            "payload": {},
        },
    )
    assert recomputed == first["hash"]
    export = AuditEvent.objects.get(event_type=EventType.EXPORT_MADE)
    assert export.actor_name == "compliance"
    assert export.payload == {
        "format": "csv",
        "filters": {"business_object": "contract:C-1042"},
    }


@pytest.mark.parametrize(
    ("role", "search", "export"),
    [
        (roles.COMPLIANCE_AUDITOR, 200, 200),
        (roles.INTEGRATION_ADMIN, 200, 403),
        (roles.REVIEWER, 403, 403),
        (roles.VIEWER, 403, 403),
    ],
)
def test_who_may_search_and_export(trail, role, search, export):
    client = client_for(role)

    assert client.get("/audit/").status_code == search
    assert client.get("/audit/export.csv").status_code == export


def test_evidence_package_holds_events_hashes_and_the_signed_head(auditor, trail):
    import hashlib
    import json
    import zipfile

    response = auditor.get("/audit/evidence.zip")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["README.txt", "events.csv", "manifest.json"]
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        assert (
            hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
        )
    rows = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    # The package holds its own export event (#7), covered by the signed head.
    export = AuditEvent.objects.get(event_type=EventType.EXPORT_MADE)
    assert export.sequence == 7
    assert export.payload == {"format": "evidence-zip", "filters": {}}
    assert [int(r["sequence"]) for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert manifest["events"] == 7
    assert manifest["segment"] == {
        "first_sequence": 1,
        "first_prev_hash": canonical.GENESIS_HASH,
        "last_sequence": 7,
        "last_hash": export.hash,
    }
    assert rows[5]["hash"] == trail[-1].hash
    assert manifest["signed_head"]["sequence"] == 7
    assert services.verify_signed_head(manifest["signed_head"]) == (
        True,
        "Event #7 still has the signed hash.",
    )


def test_an_auditor_with_only_the_standard_library_can_recheck_every_hash(
    auditor, trail
):
    """What README.txt in the package tells an auditor to do, done with stdlib."""
    import hashlib
    import json
    import zipfile

    services.record(
        EventType.DOCUMENT_TRANSFERRED,
        Actor.system("engine"),
        summary="Facture n° 7 — déposée",
        payload={"amount": 1234.5, "lines": [1, 2], "note": "ünïcode ✓", "ok": True},
    )
    body = b"".join(auditor.get("/audit/evidence.zip").streaming_content)
    rows = csv.DictReader(
        io.StringIO(zipfile.ZipFile(io.BytesIO(body)).read("events.csv").decode())
    )
    integers = {"sequence", "actor_id", "flow_id", "run_id", "connection_id"}
    integers.add("document_size")

    previous = canonical.GENESIS_HASH
    checked = 0
    for row in rows:
        data = {k: v for k, v in row.items() if k not in ("prev_hash", "hash")}
        for key in integers:
            data[key] = int(data[key]) if data[key] else None
        data["payload"] = json.loads(data["payload"])
        text = json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        digest = hashlib.sha256((previous + text).encode("utf-8")).hexdigest()
        assert row["prev_hash"] == previous
        assert digest == row["hash"], row["sequence"]
        previous = row["hash"]
        checked += 1
    assert checked == 8  # six events, the one above, and the export itself
