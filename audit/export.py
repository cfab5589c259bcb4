"""Streaming exports of the audit trail: CSV and the evidence package.

Each row holds every hashed field, ``prev_hash`` and ``hash``; the payload
column is the canonical JSON of the payload, so an auditor can re-compute
each hash from the file alone.
"""

from __future__ import annotations

import csv
import hashlib
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import orjson
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from audit import canonical, rows

COLUMNS = rows.COLUMNS


class _Echo:
    """A file-like object whose write() returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(events: Iterable[rows.Row]) -> Iterator[str]:
    """CSV lines of ``audit.rows`` rows: the header, then one line per event.

    Text as stored; the payload as its canonical JSON; empty for null.
    """
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in events:
        yield writer.writerow(row)


EVIDENCE_README = """\
xConnector audit evidence package
=================================

events.csv     the audit events that matched the search, oldest first
manifest.json  what was searched, by whom and when; the SHA-256 of every file
               in this package; the chain segment; the signed chain head

How to check it
1. Every file's SHA-256 must equal the one in manifest.json.
2. For each row of events.csv, SHA-256(prev_hash + canonical JSON of the
   hashed columns) must equal its hash. Canonical JSON: keys sorted, no
   spaces, UTF-8 (no \\u escapes). sequence, actor_id, flow_id, run_id,
   connection_id and document_size are integers (an empty cell is null);
   payload is the JSON object in its column; every other column is a string.
3. When the search had no filter, rows are consecutive: each prev_hash is
   the hash of the row before, the first equals segment.first_prev_hash and
   the last hash equals segment.last_hash.
4. signed_head.signature is HMAC-SHA256 over the head's canonical JSON with
   the installation's audit signing key; `manage.py audit_verify --head` checks
   it and that the chain still holds that exact event.
"""


def write_evidence_package(
    target: IO[bytes],
    events: Iterable[rows.Row],
    *,
    filters: Mapping[str, object],
    generated_by: str,
    signed_head: Mapping[str, object],
) -> dict[str, object]:
    """Write the evidence zip into ``target`` (a file), streaming the events.

    Memory stays flat however many events: rows go straight into the zip
    entry while their SHA-256 is computed. Returns the manifest.
    """
    digest = hashlib.sha256()
    size = 0
    count = 0
    first: rows.Row | None = None
    last: rows.Row | None = None

    def tracked(source: Iterable[rows.Row]) -> Iterator[rows.Row]:
        nonlocal count, first, last
        for event in source:
            count += 1
            first = first or event
            last = event
            yield event

    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("events.csv", "w", force_zip64=True) as entry:
            for line in csv_lines(tracked(events)):
                data = line.encode("utf-8")
                digest.update(data)
                size += len(data)
                entry.write(data)
        readme = EVIDENCE_README.encode("utf-8")
        archive.writestr("README.txt", readme)
        manifest: dict[str, object] = {
            "generated_at": canonical.timestamp(timezone.now()),
            "generated_by": generated_by,
            "filters": {k: str(v) for k, v in filters.items()},
            "events": count,
            "files": [
                {"name": "events.csv", "bytes": size, "sha256": digest.hexdigest()},
                {
                    "name": "README.txt",
                    "bytes": len(readme),
                    "sha256": hashlib.sha256(readme).hexdigest(),
                },
            ],
            "segment": {
                "first_sequence": first[rows.SEQUENCE] if first else None,
                "first_prev_hash": first[rows.PREV_HASH] if first else None,
                "last_sequence": last[rows.SEQUENCE] if last else None,
                "last_hash": last[rows.HASH] if last else None,
            },
            "signed_head": dict(signed_head),
        }
        archive.writestr(
            "manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2)
        )
    return manifest


def exported(user: object, kind: str, summary: str, filters: dict[str, object]) -> None:
    """Every export is itself an audit event, naming what was searched."""
    from audit.models import EventType
    from audit.services import Actor, record

    record(
        EventType.EXPORT_MADE,
        Actor.user(user),
        summary=summary,
        payload={"format": kind, "filters": filters},
    )


def csv_response(user: object, filters: dict[str, object]) -> StreamingHttpResponse:
    """The matching events as a streamed CSV download (audited first)."""
    from audit import search

    exported(user, "csv", "Audit events exported as CSV", filters)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(
        csv_lines(search.iterate(filters)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def evidence_response(user: Any, filters: dict[str, object]) -> FileResponse:
    """The evidence package of the matching events, as a zip download.

    The export is recorded first, so the package holds its own export event
    and the signed head covers it. Built in a temporary file (spilling to
    disk past 16 MB), then streamed.
    """
    from audit import search, services

    exported(user, "evidence-zip", "Audit evidence package exported", filters)
    head = services.signed_head()
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    write_evidence_package(
        spool,
        search.iterate(filters),
        filters=filters,
        generated_by=user.get_username(),
        signed_head=head,
    )
    spool.seek(0)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"audit-evidence-{stamp}.zip",
        content_type="application/zip",
    )
