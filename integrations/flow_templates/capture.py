"""Templates of section A: capture and archive into Content Server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.flow_templates.base import (
    ECM,
    EXSTREAM,
    FlowTemplate,
    Slot,
    by_table,
    communication,
    list_approved,
    rule,
)


def capture_to_ecm(c: Mapping[str, int]) -> dict[str, Any]:
    """An operational system posts "a document is ready" with its type and
    metadata; the document is fetched, filed by type with its metadata and
    RM classification, and put on hold when the case asks for one."""
    body = "trigger.body"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'{body}.type & ":" & {body}.number',
        "tables": {
            # document type -> folder, and -> RM classification (the
            # retention schedule); other types go to the Inbox, under Finance
            "folders": {
                "invoice": "Finance/Invoices",
                "contract": "Legal/Contracts",
                "claim": "Claims",
            },
            "classifications": {"invoice": 2202, "contract": 2203, "claim": 2203},
        },
        "steps": [
            {
                "key": "fetch",
                "name": "Fetch the document",
                "type": "action",
                "connection": c["source"],
                "action": "download",
                "mapping": [rule("path", f"{body}.path")],
            },
            {
                "key": "file",
                "name": "File it with its metadata",
                "type": "action",
                "connection": c["ecm"],
                "action": "upload_document",
                "document": "fetch",
                "mapping": [
                    rule("parent_id", "2000"),
                    by_table("folder_path", f"{body}.type", "folders", "Inbox"),
                    rule("categories.9830_2", f"{body}.number"),
                    rule("source_system", f"{body}.system"),
                    rule("source_key", f'{body}.system & ":" & {body}.number'),
                ],
                "transfer": {
                    "source_system": f"{body}.system",
                    "source_id": f"{body}.number",
                    "source_version": f"$string({body}.version ? {body}.version : 1)",
                },
            },
            {
                "key": "classify",
                "name": "Apply the retention schedule",
                "type": "action",
                "connection": c["ecm"],
                "action": "apply_rm_classification",
                "mapping": [
                    rule("node_id", "steps.file.node_id"),
                    by_table("class_id", f"{body}.type", "classifications", 2201),
                ],
            },
            {
                "key": "needs_hold",
                "name": "Does the case need a hold?",
                "type": "router",
                "routes": [{"when": f"{body}.legal_hold = true", "goto": "hold"}],
                "default": "end",
            },
            {
                "key": "hold",
                "name": "Put it on legal hold",
                "type": "action",
                "connection": c["ecm"],
                "action": "apply_hold",
                "mapping": [
                    rule("node_id", "steps.file.node_id"),
                    rule("hold_name", f'"Case " & {body}.case'),
                    rule("create_if_missing", "true"),
                ],
            },
        ],
    }


def exstream_archive(c: Mapping[str, int]) -> dict[str, Any]:
    """The billing system closes a customer's statement; Exstream renders
    it, and the statement is archived in Content Server with who it is
    for, what it is, when and how it was delivered and the variant logic
    used (segment, product, jurisdiction, language), under the customer's
    retention schedule."""
    body = "trigger.body"
    customer = f"{body}.customer"
    statement = f"{body}.statement"
    variant = f"{body}.variant"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"customer:" & {customer}.number',
        "steps": [
            list_approved(c["exstream"]),
            {
                "key": "statement",
                "name": "Render the statement",
                "type": "action",
                "connection": c["exstream"],
                "action": "generate",
                "mapping": [
                    rule("communication_id", communication("Invoice letter")),
                    rule("data.customerNumber", f"{customer}.number"),
                    rule("data.customerName", f"{customer}.name"),
                    rule("data.invoiceNumber", f"{statement}.number"),
                    rule("data.amount", f"{statement}.amount"),
                    rule("data.currency", f"{statement}.currency"),
                    rule("data.dueDate", f"{statement}.due"),
                    rule("file_name", f'"statement-" & {statement}.number & ".pdf"'),
                ],
            },
            {
                "key": "archive",
                "name": "Archive it with the customer",
                "type": "action",
                "connection": c["ecm"],
                "action": "upload_document",
                "document": "statement",
                "mapping": [
                    rule("parent_id", "2000"),
                    rule(
                        "folder_path", f'"Customer communications/" & {customer}.name'
                    ),
                    rule("categories.9833_2", f"{customer}.number"),
                    rule("categories.9833_3", f"{customer}.name"),
                    rule("categories.9833_4", '"Statement"'),
                    rule(
                        "categories.9833_5",
                        f"{body}.delivery_date ? {body}.delivery_date : "
                        "$substring($now(), 0, 10)",
                    ),
                    rule("categories.9833_6", f"{body}.channel"),
                    rule("categories.9833_7", f"{variant}.segment"),
                    rule("categories.9833_8", f"{variant}.product"),
                    rule("categories.9833_9", f"{variant}.jurisdiction"),
                    rule("categories.9833_10", f"{variant}.language"),
                ],
                "transfer": {
                    "source_system": '"Exstream"',
                    "source_id": f"{statement}.number",
                },
            },
            {
                "key": "retain",
                "name": "Apply the retention schedule",
                "type": "action",
                "connection": c["ecm"],
                "action": "apply_rm_classification",
                "mapping": [
                    rule("node_id", "steps.archive.node_id"),
                    rule("class_id", "2202"),
                ],
            },
        ],
    }


TEMPLATES = (
    FlowTemplate(
        key="capture-to-ecm",
        title="Operational documents to governed records",
        summary="Invoices, contracts and claims from an operational system are "
        "filed into the right folder with their metadata and retention "
        "schedule, and put on legal hold when the case requires it. The same "
        "document twice is one record.",
        group="Capture and archive",
        slots=(
            Slot("events", "webhook", "Events", "The webhook the system posts to."),
            Slot("source", "http", "Operational system", "Where documents are read."),
            ECM,
        ),
        build=capture_to_ecm,
        sample={
            "body": {
                "system": "Billing",
                "type": "invoice",
                "number": "INV-1001",
                "path": "documents/INV-1001.txt",
                "legal_hold": False,
            }
        },
    ),
    FlowTemplate(
        key="exstream-archive",
        title="Communications archive",
        summary="Every statement Exstream renders is archived in Content "
        "Server with the customer, the document type, the delivery date and "
        "channel and the variant used (segment, product, jurisdiction, "
        "language), under the customer's retention schedule.",
        group="Capture and archive",
        slots=(
            Slot(
                "events",
                "webhook",
                "Billing events",
                "The webhook the billing system posts to.",
            ),
            EXSTREAM,
            ECM,
        ),
        build=exstream_archive,
        sample={
            "body": {
                "MessageId": "manual-1",
                "customer": {"number": "C-1001", "name": "Contoso Ltd"},
                "statement": {
                    "number": "ST-2026-11-1001",
                    "amount": "157.30",
                    "currency": "EUR",
                    "due": "2026-12-31",
                },
                "channel": "EMAIL",
                "variant": {
                    "segment": "Business",
                    "product": "Fleet",
                    "jurisdiction": "DE",
                    "language": "de",
                },
            }
        },
    ),
)
