"""The shape of a flow version: its trigger, its steps and their mappings.

A ``FlowVersion.definition`` is JSON that validates as ``Definition``. The
designer edits it, ``services.publish_version`` validates it (including each
mapping against its action's input schema) and the engine runs it. Steps run
in order; a router, or a step's ``next``, jumps to another step by key, and
``next: "end"`` ends the run after that step.

Expressions are JSONata over the run context::

    {"trigger": <the trigger event's payload>,
     "steps": {<step key>: <that step's output>},
     "vars": {<name>: <value set by set/lookup steps>},
     "run": {"id", "flow", "event_id"}}
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

STEP_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
END = "end"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TriggerDef(_Model):
    """What starts a run.

    - ``webhook``: a delivery to the flow's own address, authenticated by the
      ``connection`` (a webhook connection), or to the connection's address;
    - ``poll``: the ``connection``'s poll ``trigger`` every ``every_seconds``;
    - ``schedule``: every ``every_seconds``, or on a ``cron`` line
      ("minute hour day-of-month month day-of-week");
    - ``manual``: a person (or the API) starts it with a JSON payload;
    - ``flow_finished``: a run of ``flow`` ended with a status in ``on``;
    - ``workspace_complete``: a workspace of ``workspace_type`` holds every
      document its checklist requires (approved where needed).
    """

    type: Literal[
        "webhook", "poll", "schedule", "manual", "flow_finished", "workspace_complete"
    ]
    connection: int | None = None
    trigger: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    every_seconds: int | None = Field(None, ge=10)
    cron: str = ""
    flow: int | None = None
    on: list[Literal["succeeded", "failed", "needs_review"]] = Field(
        default_factory=lambda: ["succeeded"]
    )
    workspace_type: str = ""

    @model_validator(mode="after")
    def _complete(self) -> TriggerDef:
        if self.type in ("webhook", "poll") and self.connection is None:
            raise ValueError(f"a {self.type} trigger needs a connection")
        if self.type == "poll" and not self.trigger:
            raise ValueError("a poll trigger needs the connection's trigger to poll")
        if self.type == "poll" and self.every_seconds is None:
            self.every_seconds = 60
        if self.type == "schedule":
            if bool(self.every_seconds) == bool(self.cron):
                raise ValueError("a schedule needs either every_seconds or a cron line")
            if self.cron and len(self.cron.split()) != 5:
                raise ValueError(
                    "a cron line has five parts: minute hour day month weekday"
                )
        if self.type == "flow_finished" and self.flow is None:
            raise ValueError("a flow-finished trigger needs the flow to follow")
        if self.type == "workspace_complete" and not self.workspace_type:
            raise ValueError("a workspace-complete trigger needs the workspace type")
        return self


class RetryDef(_Model):
    """How often a step is tried when the system answers "try later"."""

    max_attempts: int = Field(8, ge=1, le=50)
    base_seconds: float = Field(1.0, gt=0, le=3600)
    cap_seconds: float = Field(300.0, gt=0, le=86400)


class TransferDef(_Model):
    """The identity of the document an action step sends (the ledger key).

    Each is an expression; empty ones default to the trigger's system, the
    run's source reference and "1".
    """

    source_system: str = ""
    source_id: str = ""
    source_version: str = ""
    target_ref: str = Field(
        "", description="Expression over the action's output (as `output`)."
    )


class _Step(_Model):
    key: str
    name: str = ""
    next: str = ""

    @model_validator(mode="after")
    def _key(self) -> _Step:
        if not STEP_KEY.match(self.key):
            raise ValueError(
                f"the step key “{self.key}” must start with a letter and hold "
                "only lower-case letters, digits and _"
            )
        return self

    @property
    def label(self) -> str:
        return self.name or self.key.replace("_", " ").capitalize()


class ActionStep(_Step):
    """Call a connector action with an input built by the mapping."""

    type: Literal["action"]
    connection: int
    action: str
    mapping: list[dict[str, Any]] = Field(default_factory=list)
    # Which document the action receives: "trigger", or an earlier step's key.
    document: str = ""
    transfer: TransferDef = Field(default_factory=TransferDef)
    retry: RetryDef = Field(default_factory=RetryDef)


class ConditionStep(_Step):
    """Go on only when ``expression`` is true; otherwise stop or fail."""

    type: Literal["condition"]
    expression: str
    otherwise: Literal["stop", "fail"] = "stop"
    message: str = ""


class Route(_Model):
    when: str
    goto: str


class RouterStep(_Step):
    """Jump to the first route whose ``when`` is true, else to ``default``."""

    type: Literal["router"]
    routes: list[Route]
    default: str = ""


class DecisionStep(_Step):
    """A step that pauses for a reviewer of ``group`` to decide; a rejected
    run goes on at ``on_reject`` (e.g. a step that sends the reviewer's
    comment back to the source system), or ends when it is empty."""

    group: str = "Reviewer"
    title: str = ""
    on_reject: str = ""


class ApprovalStep(DecisionStep):
    """Pause until a reviewer of ``group`` approves (or rejects) the run."""

    type: Literal["approval"]
    instructions: str = ""


class Check(_Model):
    """One comparison of a reconciliation: ``expected`` against ``actual``
    (both expressions); numbers may differ by up to ``tolerance``."""

    name: str = Field(min_length=1, max_length=100)
    expected: str
    actual: str
    tolerance: float = Field(0, ge=0)


class ReconcileStep(DecisionStep):
    """Compare what should match (an order against the partner's
    acknowledgement, an invoice against its order). All equal: the run goes
    on. Any difference: a "reconciliation mismatch" task for ``group``, who
    accepts the difference (the run goes on) or rejects it (``on_reject``)."""

    type: Literal["reconcile"]
    checks: list[Check] = Field(min_length=1)


class WorkspaceLinkDef(_Model):
    """The business object's record in another system; ``object_id`` is an
    expression."""

    system: str = Field(min_length=1, max_length=60)
    object_type: str = ""
    object_id: str


class _WorkspaceStep(_Step):
    workspace_type: str = Field(min_length=1)
    business_key: str = Field(min_length=1, description="Expression.")
    workspace_name: str = Field("", description="Expression; empty: the key.")


class WorkspaceStep(_WorkspaceStep):
    """Find or create the business workspace of ``business_key`` (one per
    business object, however many events arrive), in the ECM too."""

    type: Literal["workspace"]
    links: list[WorkspaceLinkDef] = Field(default_factory=list)


class FileStep(_WorkspaceStep):
    """File a document into its business object's workspace as one of the
    checklist's document types (the workspace is found or created first):
    ``document_type`` names it, or ``document_type_from`` is an expression
    that gives it run by run (e.g. the type a partner sent). ``mapping``
    sets more upload fields (name, description, categories);
    ``valid_until`` is an expression for the document's expiry date."""

    type: Literal["file"]
    document: str = "trigger"
    document_type: str = ""
    document_type_from: str = Field("", description="Expression.")
    mapping: list[dict[str, Any]] = Field(default_factory=list)
    valid_until: str = ""
    transfer: TransferDef = Field(default_factory=TransferDef)
    retry: RetryDef = Field(default_factory=RetryDef)

    @model_validator(mode="after")
    def _one_document_type(self) -> FileStep:
        if bool(self.document_type) == bool(self.document_type_from):
            raise ValueError(
                "give the document type, or the expression that gives it (not both)"
            )
        return self


class SyncStep(_WorkspaceStep):
    """Keep the workspace's metadata in step with its linked record, by the
    workspace type's sync rules; conflicts become a task on the workspace,
    and the run goes on."""

    type: Literal["sync"]


class WaitStep(_Step):
    """Pause for ``seconds`` (the run keeps no worker busy meanwhile)."""

    type: Literal["wait"]
    seconds: int = Field(ge=1, le=30 * 86400)


class LookupStep(_Step):
    """Look the value of ``lookup`` up in ``table``; keep it in ``vars.<into>``."""

    type: Literal["lookup"]
    table: dict[str, Any]
    lookup: str
    into: str
    default: Any = None
    required: bool = True


class SetVariable(_Model):
    name: str
    expression: str


class SetStep(_Step):
    """Keep values in ``vars`` for later steps."""

    type: Literal["set"]
    variables: list[SetVariable]


Step = Annotated[
    ActionStep
    | ConditionStep
    | RouterStep
    | ApprovalStep
    | ReconcileStep
    | WorkspaceStep
    | FileStep
    | SyncStep
    | WaitStep
    | LookupStep
    | SetStep,
    Field(discriminator="type"),
]


class Definition(_Model):
    """A whole flow version: its trigger, its steps, its lookup tables, and
    ``business_key``, an expression for what a run is about (e.g.
    ``"invoice:" & trigger.invoice``), shown and searched on its tasks."""

    trigger: TriggerDef
    steps: list[Step] = Field(default_factory=list)
    business_key: str = ""
    tables: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Named lookup tables for mappings."
    )

    @model_validator(mode="after")
    def _jumps(self) -> Definition:
        keys = [step.key for step in self.steps]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"step keys must be unique: {', '.join(duplicates)}")
        known = {*keys, END}
        for step in self.steps:
            targets = [step.next] if step.next else []
            if isinstance(step, RouterStep):
                targets += [route.goto for route in step.routes]
                targets += [step.default] if step.default else []
            if isinstance(step, DecisionStep) and step.on_reject:
                targets.append(step.on_reject)
            for target in targets:
                if target not in known:
                    raise ValueError(
                        f"step “{step.key}” jumps to “{target}”, which is not a step"
                    )
        return self

    def index_of(self, key: str) -> int:
        """The index of the step ``key``; ``len(steps)`` for "end"."""
        if key == END:
            return len(self.steps)
        for index, step in enumerate(self.steps):
            if step.key == key:
                return index
        raise KeyError(key)
