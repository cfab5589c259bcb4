"""Metadata sync: a workspace's fields kept in step between its linked record
in the business system (Dynamics 365) and the category attributes of its
workspace in Content Server, by its type's ``SyncRule`` list.

The comparison is three-way. ``SyncedValue`` keeps each field's value on
both sides when they were last in step (the base), so a sync can tell which
side changed. For one field, with ``s`` and ``e`` its values now:

- neither side changed: nothing to do;
- only a side the rule copies from changed (the owner; either side when the
  rule goes both ways): its value is copied to the other side, reshaped by
  the rule's transform;
- both sides changed to values that agree: the base moves on;
- a first sync fills a side that is empty from the other, whichever owns
  the field (no value is lost);
- otherwise it is a **conflict**: both changed, or the other side changed a
  field that flows from the owner only, or a first sync finds two different
  values. With ``on_conflict = owner`` the owner's value is written to the
  other side and the conflict is kept, resolved, for everyone to see; with
  ``review`` nothing is written for the field, the conflict stays open and
  the workspace's "metadata conflict" task (one per workspace) lists it;
- a field with an open conflict is left alone until a reviewer settles it.

Writes to Dynamics carry the ETag read at the start (``If-Match``). A 412
means the record changed between the read and the write: nothing was
written, and the sync starts again from a fresh read, which sees the new
change and compares it like any other. The ECM is written after Dynamics,
so a failure there leaves a state the next sync completes (what was copied
now agrees on both sides).

Every change and conflict is an audit event on the business object. The
calls to both systems happen outside any transaction; what the sync learnt
is saved in one transaction at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import Actor, Event, EventType, record_many
from connectors.base import ActionContext
from connectors.errors import ConnectorError, PermanentError
from integrations import notifications
from integrations.models import PENDING_STATUSES, ReviewTask, TaskKind, sla_due
from workspaces.models import (
    ConflictStatus,
    OnConflict,
    SyncConflict,
    SyncDirection,
    SyncedValue,
    SyncOwner,
    SyncRule,
    Transform,
    Workspace,
)

ENGINE = Actor.system("xconnector-sync")
ATTEMPTS = 3  # fresh reads after a 412 before the fields become conflicts


@dataclass
class Change:
    """A value copied from one side to the other."""

    rule: SyncRule
    to: str  # SyncOwner: the side written
    old: Any
    new: Any


@dataclass
class Found:
    """A conflict the sync found; ``kept`` is the value written by the owner
    rule (None: a reviewer decides)."""

    rule: SyncRule
    reason: str
    base: SyncedValue | None
    system: Any
    ecm: Any
    by_rule: bool = False
    kept: Any = None


@dataclass
class Report:
    """What one sync did."""

    changes: list[Change] = field(default_factory=list)
    conflicts: list[Found] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # labels with open conflicts
    task: ReviewTask | None = None

    @property
    def summary(self) -> str:
        settled = sum(1 for c in self.conflicts if c.by_rule)
        waiting = len(self.conflicts) - settled + len(self.waiting)
        parts = []
        if self.changes:
            parts.append(_count(len(self.changes), "field") + " copied")
        if settled:
            parts.append(_count(settled, "conflict") + " settled by the owner rule")
        if waiting:
            parts.append(
                _count(waiting, "conflict")
                + (" waits" if waiting == 1 else " wait")
                + " for a reviewer"
            )
        return ", ".join(parts) if parts else "Everything was already in step"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@dataclass
class _Plan:
    to_system: dict[str, Any] = field(default_factory=dict)
    to_ecm: dict[str, Any] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Found] = field(default_factory=list)
    bases: dict[int, tuple[Any, Any]] = field(default_factory=dict)


# --- Reading and writing both sides ------------------------------------------


@dataclass
class Sides:
    """The linked record's and the ECM workspace's values now."""

    record_id: str
    etag: str
    system: dict[str, Any]
    ecm: dict[str, Any]


def rules_of(workspace: Workspace) -> list[SyncRule]:
    return list(workspace.workspace_type.sync_rules.all())


def record_id(workspace: Workspace) -> str:
    """The id of the workspace's record in the business system, or ""."""
    from integrations.engine.connections import connector_for

    wtype = workspace.workspace_type
    if not wtype.system_connection_id:
        return ""
    connection, _ = connector_for(wtype.system_connection_id)
    link = (
        workspace.links.filter(
            system=connection.connector_key, object_type=wtype.record_set
        )
        .order_by("pk")
        .first()
    )
    return link.object_id if link else ""


def read_sides(workspace: Workspace, rules: list[SyncRule]) -> Sides:
    from integrations.engine.connections import connector_for

    wtype = workspace.workspace_type
    found = record_id(workspace)
    if not found:
        raise PermanentError(
            f"“{workspace.name}” is not linked to a record in {wtype.record_set} "
            "yet, so its metadata cannot be synced."
        )
    if not workspace.ecm_node_id:
        raise PermanentError(
            f"“{workspace.name}” has no workspace in Content Server yet."
        )
    _, system = connector_for(wtype.system_connection_id)
    out, _ = system.run_action(
        "get",
        {
            "entity_set": wtype.record_set,
            "id": found,
            "select": sorted({rule.system_field for rule in rules}),
        },
        ActionContext(idempotency_key=f"xc-sync-read-{workspace.pk}"),
    )
    _, ecm = connector_for(wtype.connection_id)
    node, _ = ecm.run_action(
        "get_node",
        {"node_id": workspace.ecm_node_id},
        ActionContext(idempotency_key=f"xc-sync-read-{workspace.pk}"),
    )
    return Sides(
        record_id=found,
        etag=str(out.get("etag") or ""),
        system=dict(out.get("record") or {}),
        ecm=dict(node.get("categories") or {}),
    )


def write_sides(
    workspace: Workspace,
    sides: Sides,
    to_system: dict[str, Any],
    to_ecm: dict[str, Any],
) -> None:
    """Dynamics first (with ``If-Match``: a ``RecordChangedError`` if the
    record changed since it was read), then the ECM."""
    from integrations.engine.connections import connector_for

    wtype = workspace.workspace_type
    if to_system:
        _, system = connector_for(wtype.system_connection_id)
        system.run_action(
            "update",
            {
                "entity_set": wtype.record_set,
                "id": sides.record_id,
                "values": to_system,
                "etag": sides.etag or "*",
            },
            ActionContext(idempotency_key=f"xc-sync-{workspace.pk}-{sides.etag}"),
        )
    if to_ecm:
        _, ecm = connector_for(wtype.connection_id)
        ecm.run_action(
            "apply_categories",
            {"node_id": workspace.ecm_node_id, "values": to_ecm},
            ActionContext(idempotency_key=f"xc-sync-{workspace.pk}-ecm"),
        )


def changed_meanwhile(error: ConnectorError) -> bool:
    """The business system refused a write with 412 Precondition Failed: the
    record changed since it was read."""
    return getattr(error, "status", None) == 412


# --- Values ---------------------------------------------------------------------


def reshape(value: Any, transform: str) -> Any:
    if not isinstance(value, str):
        return value
    if transform == Transform.TRIM:
        return value.strip()
    if transform == Transform.UPPER:
        return value.upper()
    if transform == Transform.LOWER:
        return value.lower()
    return value


def same(a: Any, b: Any) -> bool:
    """Equal, counting empty text and no value as the same."""
    return (None if a == "" else a) == (None if b == "" else b)


def shown(value: Any) -> str:
    """A value as a page shows it."""
    if value is None or value == "":
        return "(empty)"
    return str(value)


def side_name(workspace: Workspace, side: str) -> str:
    if side == SyncOwner.ECM:
        return workspace.workspace_type.connection.name
    connection = workspace.workspace_type.system_connection
    return connection.name if connection else "the business system"


# --- The comparison -------------------------------------------------------------


def compare(
    rule: SyncRule, base: SyncedValue | None, s: Any, e: Any, names: dict[str, str]
) -> tuple[str, Any, str]:
    """What to do with one field: ``("none" | "base" | "to_ecm" |
    "to_system" | "conflict", value to write, reason of a conflict)``."""
    to_ecm = reshape(s, rule.to_ecm)
    to_system = reshape(e, rule.to_system)
    agree = same(to_ecm, e) or same(s, to_system)
    both_ways = rule.direction == SyncDirection.BOTH
    from_system = ("to_ecm", to_ecm, "")
    from_ecm = ("to_system", to_system, "")
    if base is None:
        if agree:
            return "base", None, ""
        # A first sync fills an empty side, whichever it is: no value is lost.
        if same(e, None):
            return from_system
        if same(s, None):
            return from_ecm
        return (
            "conflict",
            None,
            f"{rule.label} differs between {names['system']} and {names['ecm']} "
            "at the first sync.",
        )
    s_changed = not same(s, base.system_value)
    e_changed = not same(e, base.ecm_value)
    if not s_changed and not e_changed:
        return "none", None, ""
    if agree:
        return "base", None, ""
    if s_changed and e_changed:
        return (
            "conflict",
            None,
            f"{rule.label} was changed in both {names['system']} and "
            f"{names['ecm']} since the last sync.",
        )
    changed_side = SyncOwner.SYSTEM if s_changed else SyncOwner.ECM
    if changed_side == rule.owner or both_ways:
        return from_system if changed_side == SyncOwner.SYSTEM else from_ecm
    owner = names[rule.owner]
    other = names[changed_side]
    return (
        "conflict",
        None,
        f"{rule.label} was changed in {other}, but {owner} owns it.",
    )


def _plan(
    workspace: Workspace,
    rules: list[SyncRule],
    sides: Sides,
    bases: dict[int, SyncedValue],
    waiting: set[int],
) -> _Plan:
    names = {
        SyncOwner.SYSTEM: side_name(workspace, SyncOwner.SYSTEM),
        SyncOwner.ECM: side_name(workspace, SyncOwner.ECM),
        "system": side_name(workspace, SyncOwner.SYSTEM),
        "ecm": side_name(workspace, SyncOwner.ECM),
    }
    plan = _Plan()
    for rule in rules:
        if rule.pk in waiting:
            continue
        s = sides.system.get(rule.system_field)
        e = sides.ecm.get(rule.ecm_attribute)
        base = bases.get(rule.pk)
        what, value, reason = compare(rule, base, s, e, names)
        if what == "none":
            continue
        if what == "base":
            plan.bases[rule.pk] = (s, e)
        elif what == "to_ecm":
            plan.to_ecm[rule.ecm_attribute] = value
            plan.changes.append(Change(rule, SyncOwner.ECM, e, value))
            plan.bases[rule.pk] = (s, value)
        elif what == "to_system":
            plan.to_system[rule.system_field] = value
            plan.changes.append(Change(rule, SyncOwner.SYSTEM, s, value))
            plan.bases[rule.pk] = (value, e)
        elif rule.on_conflict == OnConflict.OWNER:
            if rule.owner == SyncOwner.SYSTEM:
                kept = reshape(s, rule.to_ecm)
                plan.to_ecm[rule.ecm_attribute] = kept
                plan.bases[rule.pk] = (s, kept)
            else:
                kept = reshape(e, rule.to_system)
                plan.to_system[rule.system_field] = kept
                plan.bases[rule.pk] = (kept, e)
            plan.conflicts.append(
                Found(rule, reason, base, s, e, by_rule=True, kept=kept)
            )
        else:
            plan.conflicts.append(Found(rule, reason, base, s, e))
    return plan


# --- The sync -------------------------------------------------------------------


def sync_workspace(workspace: Workspace, *, actor: Actor = ENGINE) -> Report:
    """Bring the workspace's fields in step on both sides (see the module's
    docstring); ConnectorError when a system cannot be read or written, kept
    on the workspace as ``sync_error`` too."""
    workspace = Workspace.objects.select_related(
        "workspace_type__connection", "workspace_type__system_connection"
    ).get(pk=workspace.pk)
    rules = rules_of(workspace)
    if not rules or not workspace.workspace_type.system_connection_id:
        return Report()
    try:
        for attempt in range(1, ATTEMPTS + 1):
            sides = read_sides(workspace, rules)
            bases = {v.rule_id: v for v in workspace.synced_values.all()}
            waiting = set(
                workspace.conflicts.filter(status=ConflictStatus.OPEN).values_list(
                    "rule_id", flat=True
                )
            )
            plan = _plan(workspace, rules, sides, bases, waiting)
            try:
                write_sides(workspace, sides, plan.to_system, plan.to_ecm)
            except ConnectorError as error:
                if not changed_meanwhile(error):
                    raise
                if attempt < ATTEMPTS:
                    continue
                plan = _kept_changing(workspace, rules, plan, sides, bases)
                write_sides(workspace, sides, {}, plan.to_ecm)
            break
    except ConnectorError as error:
        Workspace.objects.filter(pk=workspace.pk).update(sync_error=error.message)
        raise
    labels = [rule.label for rule in rules if rule.pk in waiting]
    return _save(workspace, plan, actor, labels)


def _kept_changing(
    workspace: Workspace,
    rules: list[SyncRule],
    plan: _Plan,
    sides: Sides,
    bases: dict[int, SyncedValue],
) -> _Plan:
    """Dynamics answered 412 to every attempt: the fields meant for it become
    open conflicts; what was meant for the ECM still goes there."""
    name = side_name(workspace, SyncOwner.SYSTEM)
    by_field = {rule.system_field: rule for rule in rules}
    kept = _Plan(to_ecm=plan.to_ecm)
    kept.changes = [c for c in plan.changes if c.to == SyncOwner.ECM]
    kept.bases = {
        pk: value
        for pk, value in plan.bases.items()
        if pk not in {by_field[f].pk for f in plan.to_system}
    }
    kept.conflicts = [
        c for c in plan.conflicts if c.rule.system_field not in plan.to_system
    ]
    for column in plan.to_system:
        rule = by_field[column]
        kept.conflicts.append(
            Found(
                rule,
                f"{rule.label} could not be written: the record kept changing in "
                f"{name} while xConnector was writing it (412).",
                bases.get(rule.pk),
                sides.system.get(rule.system_field),
                sides.ecm.get(rule.ecm_attribute),
            )
        )
    return kept


def _save(
    workspace: Workspace, plan: _Plan, actor: Actor, waiting: list[str]
) -> Report:
    now = timezone.now()
    report = Report(changes=plan.changes, conflicts=plan.conflicts, waiting=waiting)
    events: list[Event] = []
    key = workspace.business_key
    with transaction.atomic():
        # One save at a time per workspace (a step and "Sync now" may meet).
        Workspace.objects.select_for_update().only("pk").get(pk=workspace.pk)
        for rule_id, (s, e) in plan.bases.items():
            SyncedValue.objects.update_or_create(
                workspace=workspace,
                rule_id=rule_id,
                defaults={"system_value": s, "ecm_value": e, "synced_at": now},
            )
        opened = []
        for found in plan.conflicts:
            conflict = _keep_conflict(workspace, found, now)
            if conflict is not None and not found.by_rule:
                opened.append(conflict)
            events.append(
                Event(
                    EventType.METADATA_CONFLICT,
                    actor,
                    summary=(
                        f"{found.reason} Kept {shown(found.kept)} by the owner rule."
                        if found.by_rule
                        else f"{found.reason} A reviewer decides."
                    )[:500],
                    payload={
                        "workspace": workspace.pk,
                        "field": found.rule.label,
                        "system_value": found.system,
                        "ecm_value": found.ecm,
                        "kept": found.kept,
                        "by_rule": found.by_rule,
                    },
                    business_object=key,
                )
            )
        if plan.changes:
            events.append(
                Event(
                    EventType.METADATA_SYNCED,
                    actor,
                    summary=f"Metadata of “{workspace.name}”: "
                    + "; ".join(
                        f"{c.rule.label} → {shown(c.new)} in "
                        f"{side_name(workspace, c.to)}"
                        for c in plan.changes
                    )[:450],
                    payload={
                        "workspace": workspace.pk,
                        "changes": [
                            {
                                "field": c.rule.label,
                                "to": c.to,
                                "old": c.old,
                                "new": c.new,
                            }
                            for c in plan.changes
                        ],
                    },
                    business_object=key,
                )
            )
        Workspace.objects.filter(pk=workspace.pk).update(
            synced_at=now, sync_error="", updated_at=now
        )
        created = False
        if opened or waiting:
            report.task, created = _conflict_task(workspace, now)
        if events:
            record_many(events)
    if created and report.task is not None:
        notifications.task_opened(report.task)
    return report


def _keep_conflict(workspace: Workspace, found: Found, now: Any) -> SyncConflict | None:
    values = {
        "reason": found.reason,
        "base_system": found.base.system_value if found.base else None,
        "base_ecm": found.base.ecm_value if found.base else None,
        "system_value": found.system,
        "ecm_value": found.ecm,
    }
    if found.by_rule:
        return SyncConflict.objects.create(
            workspace=workspace,
            rule=found.rule,
            status=ConflictStatus.RESOLVED,
            by_rule=True,
            kept=found.kept,
            resolved_at=now,
            **values,
        )
    try:
        with transaction.atomic():
            return SyncConflict.objects.create(
                workspace=workspace, rule=found.rule, **values
            )
    except IntegrityError:
        return None  # a concurrent sync found it a moment ago


def _conflict_task(workspace: Workspace, now: Any) -> tuple[ReviewTask, bool]:
    """The workspace's pending metadata conflict task, opened if it has none
    (and whether this call opened it)."""
    pending = ReviewTask.objects.filter(
        workspace=workspace,
        kind=TaskKind.METADATA_CONFLICT,
        status__in=PENDING_STATUSES,
    ).first()
    if pending is not None:
        return pending, False
    try:
        with transaction.atomic():
            task = _new_conflict_task(workspace, now)
    except IntegrityError:  # a concurrent sync opened it a moment ago
        return ReviewTask.objects.get(
            workspace=workspace, document_type="", status__in=PENDING_STATUSES
        ), False
    record_many(
        [
            Event(
                EventType.TASK_OPENED,
                ENGINE,
                summary=f"Task {task.pk} opened: {task.title}"[:500],
                payload={
                    "task": task.pk,
                    "kind": task.kind,
                    "workspace": workspace.pk,
                },
                system="otcs",
                business_object=workspace.business_key,
            )
        ]
    )
    return task, True


def _new_conflict_task(workspace: Workspace, now: Any) -> ReviewTask:
    wtype = workspace.workspace_type
    names = (
        f"{side_name(workspace, SyncOwner.SYSTEM)} and "
        f"{side_name(workspace, SyncOwner.ECM)}"
    )
    return ReviewTask.objects.create(
        kind=TaskKind.METADATA_CONFLICT,
        workspace=workspace,
        system="otcs",
        business_object=workspace.business_key[:300],
        queue=wtype.review_queue,
        title=f"Metadata of “{workspace.name}” differs between {names}"[:300],
        reason=f"Both systems hold different values for some fields of "
        f"“{workspace.name}”. Nothing is written for them until you choose "
        "the right value.",
        needed={"workspace": workspace.pk},
        due_at=sla_due(TaskKind.METADATA_CONFLICT, now),
    )


# --- A reviewer's decision --------------------------------------------------------


@dataclass
class Choice:
    """What a reviewer chose for one conflict: ``system``, ``ecm`` or
    ``value`` (with ``value``)."""

    keep: str
    value: Any = None


class Stale(PermanentError):
    """A field changed again since the conflict was found: the reviewer
    should look at the new values."""


def settle(
    workspace: Workspace, choices: dict[int, Choice]
) -> list[tuple[SyncConflict, Any, Any, Any]]:
    """Write each chosen value to both sides (outside any transaction):
    ``(conflict, kept, new system value, new ECM value)`` per conflict.
    ``Stale`` if a value changed since the conflict was found (the conflict
    then shows the new values)."""
    workspace = Workspace.objects.select_related(
        "workspace_type__connection", "workspace_type__system_connection"
    ).get(pk=workspace.pk)
    conflicts = list(
        workspace.conflicts.filter(
            status=ConflictStatus.OPEN, pk__in=list(choices)
        ).select_related("rule")
    )
    rules = [c.rule for c in conflicts]
    if not conflicts:
        return []
    sides = read_sides(workspace, rules)
    moved = []
    for conflict in conflicts:
        s = sides.system.get(conflict.rule.system_field)
        e = sides.ecm.get(conflict.rule.ecm_attribute)
        if not same(s, conflict.system_value) or not same(e, conflict.ecm_value):
            moved.append(conflict.rule.label)
            SyncConflict.objects.filter(pk=conflict.pk).update(
                system_value=s, ecm_value=e
            )
    if moved:
        raise Stale(
            f"{', '.join(moved)} changed again since the conflict was found: "
            "the task now shows the new values. Look at them and choose again."
        )
    to_system: dict[str, Any] = {}
    to_ecm: dict[str, Any] = {}
    settled = []
    for conflict in conflicts:
        rule, choice = conflict.rule, choices[conflict.pk]
        s, e = conflict.system_value, conflict.ecm_value
        if choice.keep == SyncOwner.SYSTEM:
            kept, new_s, new_e = s, s, reshape(s, rule.to_ecm)
        elif choice.keep == SyncOwner.ECM:
            kept, new_s, new_e = e, reshape(e, rule.to_system), e
        else:
            kept = choice.value
            new_s, new_e = reshape(kept, rule.to_system), reshape(kept, rule.to_ecm)
        if not same(new_s, s):
            to_system[rule.system_field] = new_s
        if not same(new_e, e):
            to_ecm[rule.ecm_attribute] = new_e
        settled.append((conflict, kept, new_s, new_e))
    try:
        write_sides(workspace, sides, to_system, to_ecm)
    except ConnectorError as error:
        if not changed_meanwhile(error):
            raise
        raise Stale(
            f"The record changed in {side_name(workspace, SyncOwner.SYSTEM)} "
            "while your choice was being written, so nothing was written. "
            "Choose again."
        ) from None
    return settled


def keep_settled(
    workspace: Workspace,
    settled: list[tuple[SyncConflict, Any, Any, Any]],
    user: Any,
    comment: str,
) -> None:
    """Record what ``settle`` wrote (in the caller's transaction)."""
    now = timezone.now()
    events = []
    for conflict, kept, new_s, new_e in settled:
        SyncConflict.objects.filter(pk=conflict.pk).update(
            status=ConflictStatus.RESOLVED,
            kept=kept,
            resolved_at=now,
            resolved_by=user,
        )
        SyncedValue.objects.update_or_create(
            workspace=workspace,
            rule=conflict.rule,
            defaults={"system_value": new_s, "ecm_value": new_e, "synced_at": now},
        )
        events.append(
            Event(
                EventType.CONFLICT_RESOLVED,
                Actor.user(user),
                summary=f"{conflict.rule.label} of “{workspace.name}”: "
                f"{user.get_username()} kept {shown(kept)}"[:500],
                payload={
                    "workspace": workspace.pk,
                    "field": conflict.rule.label,
                    "system_value": conflict.system_value,
                    "ecm_value": conflict.ecm_value,
                    "kept": kept,
                    "comment": comment,
                },
                business_object=workspace.business_key,
            )
        )
    Workspace.objects.filter(pk=workspace.pk).update(synced_at=now, updated_at=now)
    record_many(events)
