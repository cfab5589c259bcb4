"""The only way in to the audit trail: record, verify, sign, search, export.

``record`` MUST be called inside the transaction that makes the change it
describes (it opens one when the caller has none), so the change and its
audit event commit or roll back together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from audit import canonical, rows
from audit.models import ActorType, AuditEvent, ChainHead, EventType, VerificationRun
from audit.redaction import config_diff, redact
from xconnector.middleware import request_id_var

logger = logging.getLogger(__name__)

__all__ = [
    "Actor",
    "Event",
    "EventType",
    "VerifyResult",
    "record",
    "record_config_change",
    "record_many",
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
    return record_many(
        [
            Event(
                event_type,
                actor,
                summary=summary,
                payload=payload,
                correlation_id=correlation_id,
                flow_id=flow_id,
                run_id=run_id,
                connection_id=connection_id,
                system=system,
                business_object=business_object,
                document_ref=document_ref,
                target_ref=target_ref,
                document_sha256=document_sha256,
                document_size=document_size,
                secret_keys=secret_keys,
                occurred_at=occurred_at,
            )
        ]
    )[0]


@dataclass(frozen=True)
class Event:
    """One event to record; the arguments of ``record``, for ``record_many``."""

    event_type: str
    actor: Actor
    summary: str = ""
    payload: Mapping[str, Any] | None = None
    correlation_id: str = ""
    flow_id: int | None = None
    run_id: int | None = None
    connection_id: int | None = None
    system: str = ""
    business_object: str = ""
    document_ref: str = ""
    target_ref: str = ""
    document_sha256: str = ""
    document_size: int | None = None
    secret_keys: Iterable[str] = ()
    occurred_at: datetime | None = None

    def fields(self, request_id: str, now: datetime) -> dict[str, Any]:
        """The hashed values, secrets masked, as they will be stored."""
        if self.event_type not in EventType.values:
            raise ValueError(f"Unknown audit event type {self.event_type!r}.")
        return {
            "occurred_at": self.occurred_at or now,
            "event_type": self.event_type,
            "actor_type": self.actor.type,
            "actor_id": self.actor.id,
            "actor_name": self.actor.name[:150],
            "request_id": request_id,
            "correlation_id": self.correlation_id,
            "flow_id": self.flow_id,
            "run_id": self.run_id,
            "connection_id": self.connection_id,
            "system": self.system,
            "business_object": self.business_object,
            "document_ref": self.document_ref,
            "target_ref": self.target_ref,
            "document_sha256": self.document_sha256.lower(),
            "document_size": self.document_size,
            "summary": self.summary[:500],
            "payload": canonical.normalise_payload(
                redact(self.payload or {}, self.secret_keys)
            ),
        }


def record_many(events: Sequence[Event]) -> list[AuditEvent]:
    """Append several events, in order, under one lock of the chain head.

    A step that moves fifty documents records them in one go: one lock, one
    INSERT, one head update, in the caller's transaction like ``record``.
    """
    if not events:
        return []
    request_id = request_id_var.get()
    request_id = "" if request_id == "-" else request_id
    now = timezone.now()
    prepared = [event.fields(request_id, now) for event in events]
    connection = connections[AuditEvent.objects.db]
    # No savepoint: should the INSERT fail, the caller's transaction is
    # failed anyway, and two fewer round trips matter on every append.
    with transaction.atomic(using=connection.alias, savepoint=False):
        sequence, previous = _locked_head(connection)
        rows = []
        for fields in prepared:
            sequence += 1
            fields["sequence"] = sequence
            digest = canonical.chain_hash(previous, fields)
            rows.append(AuditEvent(**fields, prev_hash=previous, hash=digest))
            previous = digest
        _insert(connection, rows)
    for event in rows:
        logger.info(
            "audit #%s %s by %s", event.sequence, event.event_type, event.actor_name
        )
    return rows


_INSERT_COLUMNS = (*canonical.HASHED_FIELDS, "prev_hash", "hash")


def _insert(connection: BaseDatabaseWrapper, events: list[AuditEvent]) -> None:
    """INSERT the events and move the head: one round trip on PostgreSQL.

    Plain SQL, because the ORM's statement building cost more than the
    database's work on every append.
    """
    meta = AuditEvent._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in _INSERT_COLUMNS]
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = []
    for event in events:
        params.extend(
            field.get_db_prep_save(getattr(event, field.attname), connection)
            for field in fields
        )
    insert = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608 - names, not values
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([one_row] * len(events))}"
    )
    head = (
        f"UPDATE {quote(ChainHead._meta.db_table)} "  # noqa: S608
        "SET sequence = %s, hash = %s WHERE id = 1"
    )
    head_params = [events[-1].sequence, events[-1].hash]
    returning = f" RETURNING {quote('sequence')}, {quote('id')}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            statement = f"WITH appended AS ({insert}{returning}), moved AS ({head}) "
            cursor.execute(
                statement + "SELECT * FROM appended",  # noqa: S608 - names only
                [*params, *head_params],
            )
        else:
            cursor.execute(insert + returning, params)
        ids = dict(cursor.fetchall())
        if connection.vendor != "postgresql":
            cursor.execute(head, head_params)
    for event in events:
        event.pk = ids[event.sequence]
        event._state.adding = False
        event._state.db = connection.alias


def _locked_head(connection: BaseDatabaseWrapper) -> tuple[int, str]:
    """The chain head (sequence, hash), locked until the transaction ends.

    On PostgreSQL the row is taken FOR UPDATE; on SQLite the transaction
    already holds the database's write lock (IMMEDIATE). A migration creates
    the row; should it be missing (a database flushed by tests), it is
    re-created at genesis, but only while the chain is empty: restarting a
    non-empty chain would silently fork it.
    """
    table = connection.ops.quote_name(ChainHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    select = f"SELECT sequence, hash FROM {table} WHERE id = 1{lock}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(select)
        row = cursor.fetchone()
        if row is not None:
            return row[0], row[1]
        # Missing: re-create it at genesis while the chain is empty. Another
        # writer may be doing the same; the insert then waits for its
        # transaction, and the second look sees (and locks) its head.
        if not AuditEvent.objects.using(connection.alias).exists():
            ChainHead.objects.using(connection.alias).bulk_create(
                [ChainHead(pk=1, sequence=0, hash=canonical.GENESIS_HASH)],
                ignore_conflicts=True,
            )
        cursor.execute(select)
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("The audit chain head is missing while events exist.")
    return row[0], row[1]


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

    events = AuditEvent.objects.filter(sequence__gt=after_sequence)
    for row in rows.iterate(events, batch=20_000):
        sequence = row[rows.SEQUENCE]
        if sequence != expected_sequence:
            return broken(expected_sequence, f"event #{expected_sequence} is missing")
        if row[rows.PREV_HASH] != previous_hash:
            return broken(sequence, "its link to the previous event does not match")
        if rows.row_hash(previous_hash, row) != row[rows.HASH]:
            return broken(sequence, "its content was changed after it was recorded")
        previous_hash = row[rows.HASH]
        expected_sequence += 1
        count += 1
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
