"""Inputs and outputs of the Dynamics 365 actions and triggers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.dynamics.client import logical_name

ENTITY_SET = Field(
    title="Table (entity set)",
    description="The Web API name of the table: accounts, contacts, "
    "opportunities, incidents, salesorders, invoices...",
    pattern=r"^[a-z][a-z0-9_]*$",
    max_length=100,
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecordRef(_In):
    """A record by id, or by alternate key."""

    entity_set: str = ENTITY_SET
    id: str = Field("", title="Record id", description="The record's GUID.")
    alternate_key: dict[str, str | int] = Field(
        default_factory=dict,
        title="Alternate key",
        description="Instead of the id: key column and value, e.g. "
        '{"accountnumber": "A1"}.',
    )

    @model_validator(mode="after")
    def _one_key(self) -> RecordRef:
        if not self.id and not self.alternate_key:
            raise ValueError("give the record id or an alternate key")
        return self


class QueryIn(_In):
    entity_set: str = ENTITY_SET
    select: list[str] = Field(default_factory=list, title="Columns ($select)")
    filter: str = Field("", title="Filter ($filter)", max_length=4000)
    orderby: str = Field("", title="Order ($orderby)", max_length=500)
    expand: str = Field("", title="Related records ($expand)", max_length=500)
    limit: int = Field(
        1000,
        ge=1,
        le=100_000,
        title="At most",
        description="Stop after this many records, across all pages.",
    )


class QueryOut(BaseModel):
    records: list[dict[str, Any]]
    count: int
    truncated: bool = Field(
        description="True when more records matched than the limit allowed."
    )


class GetIn(RecordRef):
    select: list[str] = Field(default_factory=list, title="Columns ($select)")
    expand: str = Field("", title="Related records ($expand)", max_length=500)


class RecordOut(BaseModel):
    entity_set: str
    id: str
    etag: str = Field(description='The version, e.g. W/"12345": keep it to update.')
    record: dict[str, Any]

    @classmethod
    def of(cls, entity_set: str, record: dict[str, Any], **extra: Any) -> Any:
        """A Web API record (``@odata.etag`` and columns) as this output."""
        clean = {k: v for k, v in record.items() if not k.startswith("@odata.")}
        return cls(
            entity_set=entity_set,
            id=str(record.get(f"{logical_name(entity_set)}id") or ""),
            etag=str(record.get("@odata.etag") or ""),
            record=clean,
            **extra,
        )


class CreateIn(_In):
    entity_set: str = ENTITY_SET
    values: dict[str, Any] = Field(
        title="Values",
        description='Columns and lookups, e.g. {"name": "Contoso", '
        '"parentcustomerid_account@odata.bind": "/accounts(<id>)"}.',
    )


class CreateOut(RecordOut):
    created: bool = Field(
        description="False when a repeat found the record the first attempt made."
    )


class UpdateIn(RecordRef):
    values: dict[str, Any] = Field(title="Values")
    etag: str = Field(
        "",
        title="ETag",
        description="The record's @odata.etag when it was read; the update "
        "fails if the record changed since. Empty: update whatever is there.",
    )


class UpsertIn(RecordRef):
    values: dict[str, Any] = Field(title="Values")


class UpsertOut(RecordOut):
    created: bool


class AddNoteIn(_In):
    regarding_entity_set: str = Field(
        "accounts", title="Regarding table", pattern=r"^[a-z][a-z0-9_]*$"
    )
    regarding_id: str = Field(title="Regarding record id")
    subject: str = Field("", title="Subject", max_length=500)
    text: str = Field("", title="Note text", max_length=100_000)
    filename: str = Field(
        "", title="File name", description="Empty: the document's own name."
    )


class AddNoteOut(BaseModel):
    id: str
    filename: str
    size: int
    sha256: str
    created: bool


class DocumentLinkIn(_In):
    regarding_entity_set: str = Field(
        "accounts", title="Regarding table", pattern=r"^[a-z][a-z0-9_]*$"
    )
    regarding_id: str = Field(title="Regarding record id")
    name: str = Field(title="Name", min_length=1, max_length=160)
    relative_url: str = Field("", title="Relative URL")
    absolute_url: str = Field("", title="Absolute URL")
    parent_site_id: str = Field(
        "",
        title="Parent SharePoint site id",
        description="The sharepointsites record the folder belongs to.",
    )
    parent_location_id: str = Field(
        "",
        title="Parent document location id",
        description="Instead of a site: the parent sharepointdocumentlocation.",
    )


class WebhookIn(_In):
    entities: list[str] = Field(
        default_factory=list,
        title="Tables",
        description="Logical names (account, contact); empty: every table.",
    )
    messages: list[Literal["Create", "Update", "Delete"]] = Field(
        default_factory=list, title="Messages", description="Empty: all."
    )


class ChangeEvent(BaseModel):
    """One change, from a webhook or from change tracking."""

    message: str
    entity: str
    id: str
    attributes: dict[str, Any]
    correlation_id: str = ""
    occurred_at: datetime | None = None


class ChangesIn(_In):
    entity_set: str = ENTITY_SET
    select: list[str] = Field(default_factory=list, title="Columns ($select)")
    initial: Literal["all", "changes_only"] = Field(
        "all",
        title="First poll",
        description="all: report every existing record once; changes_only: "
        "start from now.",
    )


class PolledChange(BaseModel):
    entity_set: str
    id: str
    reason: Literal["changed", "deleted"]
    etag: str = ""
    record: dict[str, Any] = Field(default_factory=dict)
