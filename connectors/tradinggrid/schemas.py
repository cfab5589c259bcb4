"""Inputs and outputs of the Trading Grid actions and trigger."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ADDRESS = re.compile(r"^[A-Za-z0-9]{1,4}:[^\s:][^:]{0,34}$")


def edi_address(value: str) -> str:
    """``qualifier:ID``, e.g. ``ZZ:DEMORETAILER`` or DUNS ``01:123456789``."""
    value = value.strip()
    if not _ADDRESS.match(value):
        raise ValueError("write the EDI address as qualifier:ID, e.g. ZZ:DEMORETAILER")
    return value


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SendDocumentIn(_In):
    receiver_address: str = Field(
        title="Partner EDI address", description="qualifier:ID, e.g. ZZ:DEMORETAILER"
    )
    doc_type: str = Field(
        "",
        title="Document type",
        description="850, 855, 856, 810, ORDERS, INVOIC...; read from the "
        "document when empty (required for XML).",
    )
    content: str = Field(
        "",
        title="Content",
        description="The interchange, bare transaction sets (ST..SE, UNH..UNT) "
        "or XML; the run's document when empty.",
    )
    file_name: str = Field("", title="File name")

    @field_validator("receiver_address")
    @classmethod
    def _address(cls, value: str) -> str:
        return edi_address(value)


class SendDocumentOut(BaseModel):
    transaction_id: str
    status: str
    standard: str
    doc_type: str
    control_number: str
    receiver_address: str
    duplicate: bool = Field(
        description="True when this send had already reached Trading Grid."
    )


class RequestDocumentIn(_In):
    partner_address: str = Field(title="Partner EDI address")
    doc_type: str = Field(title="Document requested", description="e.g. 856, 810")
    reference: str = Field(
        title="Reference", description="What it is about, e.g. the PO number."
    )
    text: str = Field("", title="Message", description="A default text when empty.")

    @field_validator("partner_address")
    @classmethod
    def _address(cls, value: str) -> str:
        return edi_address(value)


class OpenThreadIn(_In):
    partner_address: str = Field(title="Partner EDI address")
    subject: str = Field(min_length=1, max_length=200, title="Subject")
    case_reference: str = Field(
        "",
        max_length=100,
        title="Case reference",
        description="One thread per case: an open thread with this reference is "
        "reused. Derived from the run when empty.",
    )
    text: str = Field("", title="First message")

    @field_validator("partner_address")
    @classmethod
    def _address(cls, value: str) -> str:
        return edi_address(value)


class ThreadOut(BaseModel):
    thread_id: str
    subject: str
    case_reference: str
    status: str
    partner_address: str
    message_id: str = ""


class PostMessageIn(_In):
    thread_id: str = Field(min_length=1, title="Thread")
    text: str = Field(min_length=1, title="Message")
    attach_documents: bool = Field(
        True, title="Attach the run's documents", description="At most 5 MB each."
    )
    status: Literal["", "open", "closed"] = Field(
        "", title="Then set the thread to", description="Leave empty to keep it."
    )


class MessageOut(BaseModel):
    thread_id: str
    message_id: str
    partner_acknowledged: bool
    thread_status: str
    attachments: list[str] = Field(default_factory=list)


class FetchDocumentsIn(_In):
    thread_id: str = Field(min_length=1, title="Thread")


class FetchedDocument(BaseModel):
    file_name: str
    media_type: str
    size: int
    message_id: str


class FetchDocumentsOut(BaseModel):
    thread_id: str
    case_reference: str
    partner_address: str
    files: list[FetchedDocument]


class NotifyPartnersIn(_In):
    partner_addresses: list[str] = Field(
        min_length=1, max_length=100, title="Partner EDI addresses"
    )
    subject: str = Field(min_length=1, max_length=200, title="Subject")
    case_reference: str = Field(
        min_length=1,
        max_length=100,
        title="Case reference",
        description="One thread per partner and case, e.g. the recall number.",
    )
    text: str = Field(min_length=1, title="Message")

    @field_validator("partner_addresses")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(edi_address(value) for value in values))


class PartnerThread(BaseModel):
    partner_address: str
    thread_id: str
    message_id: str
    acknowledged: bool


class NotifyPartnersOut(BaseModel):
    case_reference: str
    threads: list[PartnerThread]


class AcknowledgementsIn(_In):
    case_reference: str = Field(min_length=1, max_length=100, title="Case reference")


class AcknowledgementsOut(BaseModel):
    case_reference: str
    acknowledged: list[str] = Field(title="Partners who acknowledged")
    pending: list[str] = Field(title="Partners still to acknowledge")
    all_acknowledged: bool
    summary: str


class SearchTransactionsIn(_In):
    query: str = Field(
        "",
        title="Search text",
        description="Terms joined by AND, * as wildcard, e.g. DEMO* AND 850.",
    )
    doc_type: str = Field("", title="Document type")
    sender_address: str = Field("", title="Sender EDI address")
    receiver_address: str = Field("", title="Receiver EDI address")
    content_key: Literal[
        "", "purchase order number", "invoice number", "shipment identification"
    ] = Field("", title="Key field")
    content_value: str = Field("", title="Key field value", description="* allowed.")
    count: int = Field(20, ge=1, le=100, title="How many")
    offset: int = Field(0, ge=0, title="Skip")
    oldest_first: bool = Field(False, title="Oldest first")


class TransactionOut(BaseModel):
    transaction_id: str
    arrival_time: str
    status: str
    delivery_status: str | None = None
    sender_name: str | None = None
    receiver_name: str | None = None
    sender_address: str | None = None
    receiver_address: str | None = None
    editype: str | None = None
    correlation_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    content_keys: dict[str, str] = Field(default_factory=dict)


class SearchTransactionsOut(BaseModel):
    count: int
    total: int
    offset: int
    transactions: list[TransactionOut]


class NewDocumentsIn(_In):
    doc_types: list[str] = Field(
        default_factory=list,
        title="Document types",
        description="Only these (850, 855, 997, ORDRSP...); all when empty.",
    )


class InboundDocumentEvent(BaseModel):
    document_id: str
    transaction_id: str
    file_name: str
    standard: str
    doc_type: str
    sender: str
    receiver: str
    control_number: str
    purchase_order_number: str = ""
    invoice_number: str = ""
    shipment_identification: str = ""
    transaction_count: int = 0
    correlation_id: str = ""
    received_at: str = ""
