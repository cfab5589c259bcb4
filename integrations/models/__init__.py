"""What admins configure (flows and their versions) and what workers record
(runs, steps, transfers, review tasks)."""

from __future__ import annotations

from integrations.models.flows import (
    Flow,
    FlowStatus,
    FlowVersion,
    FlowVersionConnection,
    StepTest,
)
from integrations.models.runs import (
    AttemptOutcome,
    FlowRun,
    RunStatus,
    StepRun,
    StepStatus,
    Transfer,
    TransferAttempt,
    TransferStatus,
)
from integrations.models.tasks import (
    DECISION_KINDS,
    PENDING_STATUSES,
    Priority,
    ReviewTask,
    TaskKind,
    TaskStatus,
    sla_due,
)
from integrations.models.triggers import RateWindow, TriggerState

__all__ = [
    "DECISION_KINDS",
    "PENDING_STATUSES",
    "AttemptOutcome",
    "Flow",
    "FlowRun",
    "FlowStatus",
    "FlowVersion",
    "FlowVersionConnection",
    "Priority",
    "RateWindow",
    "ReviewTask",
    "RunStatus",
    "StepRun",
    "StepStatus",
    "StepTest",
    "TaskKind",
    "TaskStatus",
    "Transfer",
    "TransferAttempt",
    "TransferStatus",
    "TriggerState",
    "sla_due",
]
