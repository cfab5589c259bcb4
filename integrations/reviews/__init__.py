"""Working review tasks: who sees which task, claiming, fixing, approving,
dismissing. The reviewers' inbox (and the API) call these; every rule lives
here.

- ``access``: who sees which task (queues), counts per queue;
- ``actions``: claim, hand over, fix (values, a document, a retry), decide,
  dismiss, bulk; each locks the task, checks it is still pending and the
  user may change it, and records its audit event in the same transaction;
- ``values``: the fields a task asks for (JSON Schema) as a form, and the
  reviewer's values checked against them.
"""

from __future__ import annotations

from integrations.reviews.access import (
    can_see,
    counts_by_queue,
    get_visible_task,
    is_admin,
    queues_of,
    tasks_in,
    visible_tasks,
)
from integrations.reviews.actions import (
    BULK_ACTIONS,
    BulkResult,
    approve,
    bulk,
    claim,
    dismiss,
    reassign,
    reject,
    resolve_conflicts,
    resolve_with_document,
    resolve_with_values,
    retry,
    unclaim,
)
from integrations.reviews.errors import InvalidValues, TaskError
from integrations.reviews.values import validate_values

__all__ = [
    "BULK_ACTIONS",
    "BulkResult",
    "InvalidValues",
    "TaskError",
    "approve",
    "bulk",
    "can_see",
    "claim",
    "counts_by_queue",
    "dismiss",
    "get_visible_task",
    "is_admin",
    "queues_of",
    "reassign",
    "reject",
    "resolve_conflicts",
    "resolve_with_document",
    "resolve_with_values",
    "retry",
    "tasks_in",
    "unclaim",
    "validate_values",
    "visible_tasks",
]
