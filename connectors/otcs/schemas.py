"""Inputs and outputs of the Content Server actions and trigger."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CATEGORY_KEY = re.compile(r"^\d+_\d+(_\d+_\d+)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_keys(values: dict[str, Any]) -> dict[str, Any]:
    for key in values:
        if not _CATEGORY_KEY.match(key):
            raise ValueError(
                f"“{key}” is not a category attribute key: use "
                "{category id}_{attribute id}, e.g. 9830_2"
            )
    return values


class NodeSummary(BaseModel):
    """The properties of a node that flows usually need."""

    id: int
    parent_id: int | None = None
    name: str
    type: int
    type_name: str = ""
    description: str = ""
    size: int | None = None
    mime_type: str = ""
    create_date: str | None = None
    modify_date: str | None = None

    @classmethod
    def of(cls, properties: dict[str, Any]) -> NodeSummary:
        data = {key: properties.get(key) for key in cls.model_fields}
        data["type_name"] = data["type_name"] or ""
        data["description"] = data["description"] or ""
        data["mime_type"] = data["mime_type"] or ""
        return cls.model_validate(data)


class UploadDocumentIn(_Strict):
    """Where to put the action's document, and with which metadata."""

    parent_id: int = Field(
        title="Parent folder",
        description="Node id of the folder (2000 is the Enterprise Workspace).",
    )
    folder_path: str = Field(
        "",
        title="Folder path",
        description="Folders below the parent, separated by /; missing ones "
        "are created. Empty puts the document in the parent itself.",
    )
    name: str = Field(
        "",
        title="Document name",
        description="Empty takes the name of the incoming document.",
    )
    description: str = Field("", title="Description")
    categories: dict[str, Any] = Field(
        default_factory=dict,
        title="Category values",
        description='Keys {category id}_{attribute id}, e.g. {"9830_2": "A-17"}.',
    )
    source_key: str = Field(
        "",
        title="Source key",
        description="The document's key in the sending system; empty uses "
        "the run's idempotency key. Stored in the Source category.",
    )
    source_system: str = Field("xConnector", title="Source system")

    @field_validator("categories")
    @classmethod
    def _keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_keys(value)

    @field_validator("folder_path")
    @classmethod
    def _path(cls, value: str) -> str:
        parts = [part.strip() for part in value.split("/") if part.strip()]
        return "/".join(parts)


class UploadDocumentOut(BaseModel):
    node_id: int
    version: int
    created: bool = Field(description="False when the document was already there.")
    sha256: str
    size: int
    name: str


class AddVersionIn(_Strict):
    node_id: int = Field(title="Document")
    description: str = Field("", title="Version description")
    major: bool = Field(False, title="Major version")


class AddVersionOut(BaseModel):
    node_id: int
    version: int
    sha256: str
    size: int


class NodeIn(_Strict):
    node_id: int = Field(title="Node")


class DownloadIn(_Strict):
    node_id: int = Field(title="Document")
    version: int | None = Field(None, ge=1, title="Version (empty: the latest)")


class DownloadOut(BaseModel):
    node_id: int
    name: str
    size: int
    sha256: str
    media_type: str


class NodeOut(NodeSummary):
    categories: dict[str, Any] = Field(default_factory=dict)


class ApplyCategoriesIn(_Strict):
    node_id: int = Field(title="Node")
    values: dict[str, Any] = Field(
        title="Category values",
        description="Keys {category id}_{attribute id}; categories not yet on "
        "the node are applied, the others updated.",
    )

    @field_validator("values")
    @classmethod
    def _keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_keys(value)

    @model_validator(mode="after")
    def _not_empty(self) -> ApplyCategoriesIn:
        if not self.values:
            raise ValueError("give at least one category value")
        return self


class ApplyCategoriesOut(BaseModel):
    node_id: int
    applied: list[int] = Field(description="Categories newly applied.")
    updated: list[int] = Field(description="Categories whose values changed.")
    categories: dict[str, Any]


class SearchIn(_Strict):
    where: str = Field(
        title="Query (LQL)", description='e.g. OTName:"Invoice*" AND OTSubType:144'
    )
    page: int = Field(1, ge=1, title="Page")
    limit: int = Field(25, ge=1, le=500, title="Results per page")
    sort: str = Field("", title="Sort", description="e.g. desc_OTObjectDate")


class SearchOut(BaseModel):
    results: list[NodeSummary]
    page: int
    page_total: int
    total_count: int


class ChangedDocumentsIn(_Strict):
    folder_id: int = Field(title="Folder", description="Node id of the watched folder.")
    subtypes: list[int] = Field(
        default_factory=lambda: [144],
        title="Node types",
        description="Subtypes to report; 144 is Document.",
    )


class ChangedDocumentEvent(NodeSummary):
    """A document added to, or changed in, the watched folder."""


class PollCursor(BaseModel):
    """Where the trigger stopped: the newest modify date seen, and the event
    ids seen within the overlap window before it (so none is repeated)."""

    since: datetime
    seen: list[str] = Field(default_factory=list)

    @classmethod
    def read(cls, cursor: str | None) -> tuple[datetime | None, set[str]]:
        """``(since, seen)``; None before the first poll. A bare ISO date
        (an older or hand-made cursor) works too."""
        if not cursor:
            return None, set()
        try:
            data = json.loads(cursor)
        except ValueError:
            data = {"since": cursor}
        if not isinstance(data, dict):
            data = {"since": str(data)}
        try:
            since = parse_date(str(data.get("since")))
        except ValueError:
            return None, set()
        return since, {str(item) for item in data.get("seen") or []}

    def dump(self) -> str:
        since = self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps({"since": since, "seen": self.seen})


def parse_date(value: str) -> datetime:
    """Content Server's ISO dates; one without a zone is taken as UTC [I]."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- Business workspaces --


class FindOrCreateWorkspaceIn(_Strict):
    """The business object a workspace belongs to, and how to create it."""

    ext_system_id: str = Field(title="External system", description="e.g. D365")
    bo_type: str = Field(title="Business object type", description="e.g. account")
    bo_id: str = Field(title="Business object id")
    name: str = Field(title="Workspace name")
    workspace_type: int | str = Field(
        "",
        title="Workspace type",
        description="Id or name; empty: the type bound to the business object type.",
    )
    template_id: int | None = Field(None, title="Template (empty: the type's first)")
    parent_id: int | None = Field(
        None, title="Parent (empty: where the type puts its workspaces)"
    )
    description: str = Field("", title="Description")
    categories: dict[str, Any] = Field(
        default_factory=dict,
        title="Category values",
        description="Keys {category id}_{attribute id}.",
    )

    @field_validator("categories")
    @classmethod
    def _keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_keys(value)


class FindOrCreateWorkspaceOut(BaseModel):
    workspace_id: int
    created: bool = Field(description="False when the workspace was already there.")
    name: str
    workspace_type_id: int | None = None


class LinkWorkspaceReferenceIn(_Strict):
    workspace_id: int = Field(title="Workspace")
    ext_system_id: str = Field(title="External system")
    bo_type: str = Field(title="Business object type")
    bo_id: str = Field(title="Business object id")


class LinkWorkspaceReferenceOut(BaseModel):
    workspace_id: int
    ext_system_id: str
    bo_type: str
    bo_id: str


class RelateWorkspacesIn(_Strict):
    workspace_id: int = Field(title="Workspace")
    related_workspace_id: int = Field(title="Related workspace")
    rel_type: str = Field(
        "child",
        pattern="^(child|parent)$",
        title="The related workspace is a",
        description="child or parent",
    )


class RelateWorkspacesOut(BaseModel):
    workspace_id: int
    related_workspace_id: int
    rel_type: str
    created: bool = Field(description="False when the relation was already there.")


# -- Records management --


class ApplyRmClassificationIn(_Strict):
    node_id: int = Field(title="Node")
    class_id: int = Field(title="RM classification")
    apply_to_sub_items: bool = Field(False, title="Also to the items inside")


class ApplyRmClassificationOut(BaseModel):
    node_id: int
    class_id: int
    applied: bool = Field(description="False when the node already had it.")
    classifications: list[int]


class ApplyHoldIn(_Strict):
    node_id: int = Field(title="Node")
    hold_name: str = Field(title="Hold")
    create_if_missing: bool = Field(False, title="Create the hold if missing")
    hold_type: str = Field("LEGAL", title="Type of a new hold")
    comment: str = Field("", title="Comment of a new hold")


class ApplyHoldOut(BaseModel):
    node_id: int
    hold_id: int
    hold_name: str
    hold_created: bool
    applied: bool = Field(description="False when the node was already under it.")


class RemoveHoldIn(_Strict):
    node_id: int = Field(title="Node")
    hold_name: str = Field(title="Hold")


class RemoveHoldOut(BaseModel):
    node_id: int
    hold_name: str
    removed: bool = Field(description="False when the node was not under it.")


# -- Workflow --


class StartWorkflowIn(_Strict):
    workflow_id: int = Field(title="Workflow map")
    document_ids: list[int] = Field(default_factory=list, title="Documents to attach")
    title: str = Field("", title="Title", description="Default: the map's name.")
    values: dict[str, Any] = Field(
        default_factory=dict,
        title="Form values",
        description="Keyed by form attribute, e.g. WorkflowForm_10.",
    )
    comment: str = Field("", title="Comment")

    @field_validator("values")
    @classmethod
    def _form_keys(cls, values: dict[str, Any]) -> dict[str, Any]:
        for key in values:
            if not key.startswith("WorkflowForm_") or key == "WorkflowForm_Title":
                raise ValueError(
                    f"“{key}” is not a workflow form attribute: use WorkflowForm_…"
                    " (the title has its own field)"
                )
        return values


class StartWorkflowOut(BaseModel):
    process_id: int
    title: str
    started: bool = Field(description="False when a retry found the process.")


class WorkflowStatusIn(_Strict):
    process_id: int = Field(title="Process")


class WorkflowStep(BaseModel):
    task_id: int
    task_name: str
    status: str
    assignees: list[str] = Field(description="Login names.")


class WorkflowStatusOut(BaseModel):
    process_id: int
    title: str
    status: str = Field(description="ontime, workflowlate, stopped, completed…")
    date_initiated: str | None = None
    current_steps: list[WorkflowStep]
    next_steps: list[WorkflowStep]
