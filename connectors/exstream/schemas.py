"""Inputs and outputs of the Exstream actions and trigger (their JSON Schema
is what the flow designer shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

State = Literal["DRAFT", "REVIEW", "APPROVED", "REJECTED"]
JobStatus = Literal["QUEUED", "RUNNING", "COMPLETED", "FAILED"]
UUID_PATTERN = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GenerateIn(_In):
    communication_id: str = Field(
        title="Communication",
        description="The id (UUID) of an APPROVED communication.",
        pattern=UUID_PATTERN,
    )
    data: dict[str, Any] | None = Field(
        None,
        title="Driver data",
        description="One customer record, as JSON fields (customerNumber, ...).",
    )
    data_xml: str = Field(
        "",
        title="Driver data (XML)",
        description="The record as XML instead, e.g. <customer>...</customer>.",
    )
    file_name: str = Field(
        "",
        title="File name",
        description="Name of the PDF; empty: the name Exstream gives it.",
        max_length=200,
    )

    @model_validator(mode="after")
    def _one_kind_of_data(self) -> GenerateIn:
        if (self.data is None) == (not self.data_xml):
            raise ValueError("give the driver data either as JSON fields or as XML")
        return self


class GenerateOut(BaseModel):
    file_name: str = Field(title="File name")
    media_type: str = Field(title="Media type")
    size: int = Field(title="Size in bytes")
    sha256: str = Field(title="SHA-256")
    communication_id: str = Field(title="Communication")


class SubmitBatchIn(_In):
    service_name: str = Field(
        title="Batch service",
        description="The named batch input of the communication (InvoiceBatch).",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.-]+$",
    )
    communication_id: str = Field(
        "",
        title="Communication",
        description="Optional: the communication, when the service serves several.",
        pattern=f"^$|{UUID_PATTERN}",
    )
    records: list[dict[str, Any]] = Field(
        default_factory=list,
        title="Records",
        description="The customer records, one document set each.",
    )
    data_xml: str = Field("", title="Driver data (XML)")
    wait_seconds: int | None = Field(
        None,
        title="Wait at most (seconds)",
        description="How long this step waits for the job before trying again "
        "later; empty: the connection's setting.",
        ge=0,
        le=600,
    )

    @model_validator(mode="after")
    def _one_kind_of_data(self) -> SubmitBatchIn:
        if bool(self.records) == bool(self.data_xml):
            raise ValueError("give the records either as JSON or as XML")
        return self


class JobOutput(BaseModel):
    id: str = Field(title="Output id")
    file_name: str = Field(title="File name")
    queue_name: str = Field(title="Channel")
    customer_number: str | None = Field(None, title="Customer number")


class JobOut(BaseModel):
    job_id: str = Field(title="Job id")
    status: JobStatus = Field(title="Status")
    outputs: list[JobOutput] = Field(default_factory=list, title="Outputs")


class FetchOutputsIn(_In):
    job_id: str = Field(
        title="Job id", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"
    )
    queue_name: str = Field(
        "",
        title="Channel",
        description="Only this channel's files (PDF, PRINT, EMAIL, SMS, "
        "PORTAL); empty: all.",
    )


class FetchedFile(BaseModel):
    file_name: str = Field(title="File name")
    queue_name: str = Field(title="Channel")
    customer_number: str | None = Field(None, title="Customer number")
    size: int | None = Field(None, title="Size in bytes (when announced)")


class FetchOutputsOut(BaseModel):
    job_id: str = Field(title="Job id")
    files: list[FetchedFile] = Field(title="Files")


class UpdateContentBlockIn(_In):
    communication_id: str = Field(title="Communication", pattern=UUID_PATTERN)
    block: str = Field(
        title="Content block", min_length=1, max_length=100, pattern=r"^[\w.-]+$"
    )
    content: str = Field(
        title="Content", description="Text with {field} placeholders.", min_length=1
    )
    submit_for_review: bool = Field(
        False,
        title="Submit for review",
        description="Put the changed communication into REVIEW instead of DRAFT.",
    )


class SetStateIn(_In):
    communication_id: str = Field(title="Communication", pattern=UUID_PATTERN)
    state: State = Field(
        title="New state",
        description="REVIEW submits a draft, APPROVED releases it for "
        "generation, REJECTED sends it back to its author (then DRAFT).",
    )


class CommunicationOut(BaseModel):
    id: str = Field(title="Id")
    name: str = Field(title="Name")
    state: State = Field(title="State")
    version: int = Field(title="Version")
    required_fields: list[str] = Field(default_factory=list, title="Required fields")
    channels: list[str] = Field(default_factory=list, title="Channels")


class ListCommunicationsIn(_In):
    state: State | None = Field(None, title="State", description="Empty: any state.")
    page_size: int = Field(50, title="Page size", ge=1, le=200)
    max_items: int = Field(500, title="At most", ge=1, le=5000)


class ListCommunicationsOut(BaseModel):
    communications: list[CommunicationOut] = Field(title="Communications")
    total: int = Field(title="Total")


class DeliveryEvent(BaseModel):
    """What a run started by a delivery event sees."""

    event: Literal["delivered", "bounced", "viewed"] = Field(title="Event")
    communication: str = Field(title="Communication id")
    channel: str = Field(title="Channel")
    recipient: str = Field(title="Recipient")
    occurred_at: datetime = Field(title="Occurred at")
