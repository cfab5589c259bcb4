"""The only way in to the audit trail: record, verify, sign, search, export.

``record`` MUST be called inside the transaction that makes the change it
describes (it opens one when the caller has none), so the change and its
audit event commit or roll back together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import canonical
from audit.models import ActorType, AuditEvent, ChainHead, EventType, VerificationRun
from audit.redaction import config_diff, redact
from xconnector.middleware import request_id_var

logger = logging.getLogger(__name__)

__all__ = [
    "Actor",
    "EventType",
    "VerifyResult",
    "record",
    "record_config_change",
    "signed_head",
    "verify_chain",
    "verify_signed_head",
]


@dataclass(frozen=True)
class Actor:
    """Who did it: a person (with a name snapshot) or a system component."""

    type: str
    name: str
    id: int | None = None

    @classmethod
    def user(cls, user: Any) -> Actor:
        name = user.get_username() if hasattr(user, "get_username") else str(user)
        return cls(ActorType.USER, name, user.pk)

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls(ActorType.SYSTEM, component)


def record(
    event_type: str,
    actor: Actor,
    *,
    summary: str = "",
    payload: Mapping[str, Any] | None = None,
    correlation_id: str = "",
    flow_id: int | None = None,
    run_id: int | None = None,
    connection_id: int | None = None,
    system: str = "",
    business_object: str = "",
    document_ref: str = "",
    target_ref: str = "",
    document_sha256: str = "",
    document_size: int | None = None,
    secret_keys: Iterable[str] = (),
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain and return it.

    Secrets in ``payload`` (by key name, plus ``secret_keys``) are masked
    before the event is hashed. The chain head row is locked until the
    caller's transaction ends, so appends are serialised across processes.
    """
    if event_type not in EventType.values:
        raise ValueError(f"Unknown audit event type {event_type!r}.")
    fields: dict[str, Any] = {
        "occurred_at": occurred_at or timezone.now(),
        "event_type": event_type,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_name": actor.name[:150],
        "request_id": request_id_var.get() if request_id_var.get() != "-" else "",
        "correlation_id": correlation_id,
        "flow_id": flow_id,
        "run_id": run_id,
        "connection_id": connection_id,
        "system": system,
        "business_object": business_object,
        "document_ref": document_ref,
        "target_ref": target_ref,
        "document_sha256": document_sha256.lower(),
        "document_size": document_size,
        "summary": summary[:500],
        "payload": canonical.normalise_payload(redact(payload or {}, secret_keys)),
    }
    with transaction.atomic():
        head = _locked_head()
        fields["sequence"] = head.sequence + 1
        event = AuditEvent(
            **fields,
            prev_hash=head.hash,
            hash=canonical.chain_hash(head.hash, fields),
        )
        event.save(force_insert=True)
        ChainHead.objects.filter(pk=1).update(sequence=event.sequence, hash=event.hash)
    logger.info("audit #%s %s by %s", event.sequence, event_type, actor.name)
    return event


def _locked_head() -> ChainHead:
    """The chain head, locked until the caller's transaction ends.

    A migration creates it; should the row be missing (a database flushed by
    tests), it is re-created at genesis, but only while the chain is empty:
    restarting a non-empty chain would silently fork it.
    """
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    if AuditEvent.objects.exists():
        raise RuntimeError("The audit chain head is missing while events exist.")
    ChainHead.objects.bulk_create(
        [ChainHead(pk=1, sequence=0, hash=canonical.GENESIS_HASH)],
        ignore_conflicts=True,
    )
    return ChainHead.objects.select_for_update().get(pk=1)


def record_config_change(
    actor: Actor,
    *,
    object_type: str,
    object_id: int | str,
    object_name: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    secret_fields: Iterable[str] = (),
    **subjects: Any,
) -> AuditEvent:
    """A create (``before`` None), update or delete (``after`` None) of config.

    Secret fields appear only as "(secret changed)" in the diff.
    """
    action = "created" if before is None else "deleted" if after is None else "changed"
    diff = config_diff(before, after, secret_fields)
    return record(
        EventType.CONFIG_CHANGED,
        actor,
        summary=f"{object_type} “{object_name}” {action}",
        payload={
            "object_type": object_type,
            "object_id": str(object_id),
            "action": action,
            **diff,
        },
        **subjects,
    )


# --- Verification -----------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events_verified: int
    first_sequence: int
    last_sequence: int
    last_hash: str
    broken_sequence: int | None = None
    detail: str = ""


_VERIFY_COLUMNS = (*canonical.HASHED_FIELDS, "prev_hash", "hash")
_BATCH = 20_000


def verify_chain(
    after_sequence: int = 0, after_hash: str = canonical.GENESIS_HASH
) -> VerifyResult:
    """Walk the chain from ``after_sequence`` (0: from the start) to the head.

    Checks, for each event: the sequence has no gap, ``prev_hash`` is the
    previous event's hash, and ``hash`` re-computes from the stored values.
    Returns at the first broken event, naming its sequence number.
    """
    expected_sequence = after_sequence + 1
    previous_hash = after_hash
    count = 0
    last = after_sequence

    def broken(sequence: int, problem: str) -> VerifyResult:
        return VerifyResult(
            False,
            count,
            after_sequence + 1,
            expected_sequence - 1,
            previous_hash,
            sequence,
            f"The chain is broken at event #{sequence}: {problem}.",
        )

    while True:
        rows = list(
            AuditEvent.objects.filter(sequence__gt=last)
            .order_by("sequence")
            .values_list(*_VERIFY_COLUMNS)[:_BATCH]
        )
        for row in rows:
            fields = dict(zip(_VERIFY_COLUMNS, row, strict=True))
            sequence = fields["sequence"]
            problem = ""
            if sequence != expected_sequence:
                problem = f"event #{expected_sequence} is missing"
                sequence = expected_sequence
            elif fields["prev_hash"] != previous_hash:
                problem = "its link to the previous event does not match"
            elif canonical.chain_hash(previous_hash, fields) != fields["hash"]:
                problem = "its content was changed after it was recorded"
            if problem:
                return broken(sequence, problem)
            previous_hash = fields["hash"]
            expected_sequence += 1
            count += 1
        if len(rows) < _BATCH:
            break
        last = rows[-1][0]
    head = ChainHead.objects.filter(pk=1).first() or ChainHead(sequence=0)
    if head.sequence != expected_sequence - 1:
        return broken(
            expected_sequence,
            f"the newest events up to #{head.sequence} are missing",
        )
    return VerifyResult(
        True,
        count,
        after_sequence + 1,
        expected_sequence - 1,
        previous_hash,
        detail=f"{count} events verified.",
    )


def verify_and_store(full: bool = False) -> VerificationRun:
    """Verify new events since the last good run (or all), and keep the result.

    An incremental run first checks that the last verified event still has
    the hash it had; a rewrite behind that point is caught by a full run and
    by the signed chain head.
    """
    started = timezone.now()
    checkpoint = None
    if not full:
        checkpoint = (
            VerificationRun.objects.filter(ok=True).order_by("-finished_at").first()
        )
    if checkpoint and checkpoint.last_sequence:
        stored = (
            AuditEvent.objects.filter(sequence=checkpoint.last_sequence)
            .values_list("hash", flat=True)
            .first()
        )
        if stored != checkpoint.last_hash:
            result = VerifyResult(
                False,
                0,
                checkpoint.last_sequence,
                checkpoint.last_sequence,
                checkpoint.last_hash,
                checkpoint.last_sequence,
                f"The chain is broken at event #{checkpoint.last_sequence}: it "
                "no longer matches the last verification.",
            )
        else:
            result = verify_chain(checkpoint.last_sequence, checkpoint.last_hash)
    else:
        result = verify_chain()
    return VerificationRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        ok=result.ok,
        full=full or checkpoint is None,
        first_sequence=result.first_sequence,
        last_sequence=result.last_sequence,
        last_hash=result.last_hash,
        events_verified=result.events_verified,
        broken_sequence=result.broken_sequence,
        detail=result.detail,
    )


def last_verification() -> VerificationRun | None:
    return VerificationRun.objects.order_by("-finished_at").first()


# --- Signed chain head ------------------------------------------------------


def _signing_key() -> bytes:
    return settings.XCONNECTOR_AUDIT_SIGNING_KEY.encode()


def signed_head() -> dict[str, Any]:
    """The current head, signed: keep it outside xConnector (e.g. with the
    auditor). Later, ``verify_signed_head`` proves the chain still contains
    that exact event, which a rewrite of the whole tail cannot fake."""
    head = ChainHead.objects.filter(pk=1).first() or ChainHead(
        sequence=0, hash=canonical.GENESIS_HASH
    )
    document = {
        "sequence": head.sequence,
        "hash": head.hash,
        "signed_at": canonical.timestamp(timezone.now()),
        "algorithm": "HMAC-SHA256",
    }
    return {**document, "signature": canonical.sign(_signing_key(), document)}


def verify_signed_head(document: Mapping[str, Any]) -> tuple[bool, str]:
    """Check a signed head's signature and that the chain still agrees."""
    body = {k: document[k] for k in ("sequence", "hash", "signed_at", "algorithm")}
    import hmac

    if not hmac.compare_digest(
        canonical.sign(_signing_key(), body), str(document.get("signature", ""))
    ):
        return (
            False,
            "The signature does not match: the head was not signed with this key.",
        )
    stored = (
        AuditEvent.objects.filter(sequence=body["sequence"])
        .values_list("hash", flat=True)
        .first()
    )
    if body["sequence"] == 0 and stored is None:
        return True, "The signed head is the empty chain."
    if stored is None:
        return False, f"Event #{body['sequence']} named by the signed head is gone."
    if stored != body["hash"]:
        return False, (
            f"Event #{body['sequence']} was rewritten after the head was signed."
        )
    return True, f"Event #{body['sequence']} still has the signed hash."
