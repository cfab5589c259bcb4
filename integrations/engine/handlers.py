"""Which function runs each step type (the engine looks a step up here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from integrations.engine import decisions, steps, workspace_steps

if TYPE_CHECKING:
    from integrations.engine.runner import Execution

HANDLERS: dict[str, Callable[[Execution, Any], steps.Done | steps.Pause]] = {
    "action": steps.run_action,
    "condition": steps.check_condition,
    "router": steps.route,
    "approval": decisions.ask_approval,
    "reconcile": decisions.reconcile,
    "workspace": workspace_steps.find_or_create_workspace,
    "file": workspace_steps.file_document,
    "sync": workspace_steps.sync_metadata,
    "wait": steps.wait,
    "lookup": steps.look_up,
    "set": steps.set_variables,
}
