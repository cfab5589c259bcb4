"""The canonical form of an audit event and its chain hash (pure Python).

Canonical JSON, as hashed: UTF-8, object keys sorted, no insignificant white
space (orjson's compact output), timestamps as ISO 8601 in UTC with
microseconds and a ``Z``. ``hash = SHA-256(prev_hash || canonical_json)``
where ``prev_hash`` is the 64-character hex hash of the previous event (64
zeros for the first). An auditor can re-compute every hash from an export
with any JSON library that sorts keys; the README.txt of every evidence
package (audit/export.py) says how.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS_HASH = "0" * 64

# The fields of an event that the hash covers, in the order of the CSV export.
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "event_type",
    "actor_type",
    "actor_id",
    "actor_name",
    "request_id",
    "correlation_id",
    "flow_id",
    "run_id",
    "connection_id",
    "system",
    "business_object",
    "document_ref",
    "target_ref",
    "document_sha256",
    "document_size",
    "summary",
    "payload",
)


def timestamp(value: datetime) -> str:
    """``2026-11-22T05:40:00.123456Z``: always UTC, always microseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalise_payload(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """JSON-only data: what the database will give back, so hashes re-compute.

    Dates become ISO strings, Decimals and UUIDs strings, tuples lists.
    """
    if not payload:
        return {}
    return orjson.loads(orjson.dumps(payload, default=str))


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    data = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(data["occurred_at"], datetime):
        data["occurred_at"] = timestamp(data["occurred_at"])
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def chain_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_bytes(fields))
    return digest.hexdigest()


def sign(key: bytes, document: Mapping[str, Any]) -> str:
    """HMAC-SHA256 over the canonical JSON of ``document`` (hex)."""
    return hmac.new(
        key, orjson.dumps(document, option=orjson.OPT_SORT_KEYS), hashlib.sha256
    ).hexdigest()
