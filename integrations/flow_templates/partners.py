"""Templates of section D: trading partners."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.flow_templates.base import (
    ECM,
    GRID,
    FlowTemplate,
    Slot,
    by_table,
    preset,
    rule,
)

# What each onboarding document is called on the network (a short code).
REQUEST_CODES = {
    "tax_form": "TAX",
    "bank_details": "BANK",
    "insurance": "INS",
    "signed_contract": "CONTRACT",
}


def order_reconciliation(c: Mapping[str, int]) -> dict[str, Any]:
    """A partner's order acknowledgement or invoice is matched against the
    order; a difference becomes a review task, and a rejected one is sent
    back to the partner's system with the reviewer's comment."""
    return {
        "trigger": {"type": "manual"},
        "business_key": '"order:" & trigger.order',
        "steps": [
            {
                "key": "order",
                "name": "Read the order",
                "type": "action",
                "connection": c["orders"],
                "action": "request",
                "mapping": [
                    rule("method", '"GET"'),
                    rule("path", '"orders/" & trigger.order'),
                ],
            },
            {
                "key": "match",
                "name": "Acknowledgement against order",
                "type": "reconcile",
                "group": "Reviewer",
                "on_reject": "dispute",
                "checks": [
                    {
                        "name": "Total",
                        "expected": "steps.order.body.total",
                        "actual": "trigger.total",
                        "tolerance": 0.5,
                    },
                    {
                        "name": "Currency",
                        "expected": "steps.order.body.currency",
                        "actual": "trigger.currency",
                    },
                ],
            },
            {
                "key": "accept",
                "name": "Accept the acknowledgement",
                "type": "set",
                "next": "end",
                "variables": [{"name": "accepted", "expression": "trigger.order"}],
            },
            {
                "key": "dispute",
                "name": "Dispute it with the partner",
                "type": "action",
                "connection": c["orders"],
                "action": "request",
                "mapping": [
                    rule("method", '"POST"'),
                    rule("path", '"echo"'),
                    rule(
                        "body",
                        '{"order": trigger.order, "disputed": vars.approval.comment}',
                    ),
                ],
            },
        ],
    }


def partner_case(c: Mapping[str, int]) -> dict[str, Any]:
    """A dispute, shipment issue or compliance case in Content Server needs
    the partner: its collaboration thread is opened (or found) with the
    case's status, and only the document the case worker selected is
    shared on it."""
    case = "trigger.body.case"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"case:" & {case}.number',
        "steps": [
            {
                "key": "thread",
                "name": "Open the case with the partner",
                "type": "action",
                "connection": c["grid"],
                "action": "open_thread",
                "mapping": [
                    rule("partner_address", f"{case}.partner"),
                    rule("subject", f"{case}.subject"),
                    rule("case_reference", f'"CASE-" & {case}.number'),
                    rule("text", f'"Status: " & {case}.status'),
                ],
            },
            {
                "key": "selected",
                "name": "Is a document to be shared?",
                "type": "condition",
                "expression": "$exists(trigger.body.share.node_id)",
                "otherwise": "stop",
            },
            {
                "key": "document",
                "name": "Fetch the selected document",
                "type": "action",
                "connection": c["ecm"],
                "action": "download",
                "mapping": [rule("node_id", "trigger.body.share.node_id")],
            },
            {
                "key": "share",
                "name": "Share it on the thread",
                "type": "action",
                "connection": c["grid"],
                "action": "post_message",
                "document": "document",
                "mapping": [
                    rule("thread_id", "steps.thread.thread_id"),
                    rule("text", '"Shared with you: " & steps.document.name'),
                ],
                "transfer": {
                    "source_system": '"Content Server"',
                    "source_id": '$string(trigger.body.share.node_id) & "/" & '
                    f"{case}.partner",
                },
            },
        ],
    }


def po_exception(c: Mapping[str, int]) -> dict[str, Any]:
    """An exception on a purchase order (price, quantity, missing item) is
    published to the partner on the order's thread; the corrected document
    the partner sends back is filed in the order's workspace."""
    order = "trigger.body.order"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"order:" & {order}.number',
        "steps": [
            {
                "key": "workspace",
                "name": "Find or create the order's workspace",
                "type": "workspace",
                "workspace_type": "sales_order",
                "business_key": f"{order}.number",
                "workspace_name": f'"Order " & {order}.number',
            },
            {
                "key": "publish",
                "name": "Tell the partner",
                "type": "action",
                "connection": c["grid"],
                "action": "request_document",
                "mapping": [
                    rule("partner_address", f"{order}.partner"),
                    rule("doc_type", '"COR"'),
                    rule("reference", f"{order}.number"),
                    rule(
                        "text",
                        f'"Exception on " & {order}.number & ": " & '
                        "trigger.body.exception & "
                        '". Please send the corrected document with an explanation."',
                    ),
                ],
            },
            {
                "key": "answer",
                "name": "Wait for the correction",
                "type": "action",
                "connection": c["grid"],
                "action": "fetch_documents",
                "mapping": [rule("thread_id", "steps.publish.thread_id")],
                "retry": {"max_attempts": 12, "base_seconds": 60, "cap_seconds": 3600},
            },
            {
                "key": "file",
                "name": "File it in the order",
                "type": "file",
                "workspace_type": "sales_order",
                "business_key": f"{order}.number",
                "document": "answer",
                "document_type": "partner_correction",
                "transfer": {
                    "source_system": f"{order}.partner",
                    "source_id": f'{order}.number & "/correction"',
                },
            },
        ],
    }


def partner_contract(c: Mapping[str, int]) -> dict[str, Any]:
    """An approved contract version is shared with the partner for review
    on the contract's thread, and the flow checks that the partner
    acknowledged it; one that has not is a task to chase."""
    contract = "trigger.body.contract"
    reference = f'"CONTRACT-" & {contract}.number'
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"contract:" & {contract}.number',
        "steps": [
            {
                "key": "document",
                "name": "Fetch the approved version",
                "type": "action",
                "connection": c["ecm"],
                "action": "download",
                "mapping": [
                    rule("node_id", f"{contract}.node_id"),
                    rule("version", f"{contract}.version"),
                ],
            },
            {
                "key": "thread",
                "name": "Open the contract's thread",
                "type": "action",
                "connection": c["grid"],
                "action": "open_thread",
                "mapping": [
                    rule("partner_address", f"{contract}.partner"),
                    rule("subject", f'"Contract " & {contract}.number'),
                    rule("case_reference", reference),
                ],
            },
            {
                "key": "share",
                "name": "Share it for review",
                "type": "action",
                "connection": c["grid"],
                "action": "post_message",
                "document": "document",
                "mapping": [
                    rule("thread_id", "steps.thread.thread_id"),
                    rule(
                        "text",
                        f'"Version " & $string({contract}.version) & " of contract " '
                        f'& {contract}.number & " is approved on our side. Please '
                        'review it and acknowledge."',
                    ),
                ],
                "transfer": {
                    "source_system": '"Content Server"',
                    # one share per document version and partner
                    "source_id": f'$string({contract}.node_id) & "/" & '
                    f"{contract}.partner",
                    "source_version": f"$string({contract}.version)",
                },
            },
            {
                "key": "count",
                "name": "Did the partner acknowledge?",
                "type": "action",
                "connection": c["grid"],
                "action": "acknowledgements",
                "mapping": [rule("case_reference", reference)],
            },
            {
                "key": "acknowledged",
                "name": "Acknowledged",
                "type": "condition",
                "expression": "steps.count.all_acknowledged",
                "otherwise": "fail",
                "message": "The partner has not acknowledged the contract yet: "
                "follow it up with them, then retry this run.",
            },
        ],
    }


def shipment_issue(c: Mapping[str, int]) -> dict[str, Any]:
    """A logistics partner reports a delay, a missing shipment or a customs
    problem (an X12 214 shipment status); the message is filed in the
    order's workspace, and a reviewer is asked to act on it."""
    po = "trigger.purchase_order_number"
    return {
        "trigger": {
            "type": "poll",
            "connection": c["grid"],
            "trigger": "new_inbound_documents",
            "params": {"doc_types": ["214"]},
            "every_seconds": 60,
        },
        "business_key": f'"order:" & {po}',
        "steps": [
            {
                "key": "order",
                "name": "Does it name the order?",
                "type": "condition",
                "expression": f'$exists({po}) and {po} != ""',
                "otherwise": "fail",
                "message": "The partner's message names no purchase order (no "
                "L11 reference with qualifier PO): find the order, then replay.",
            },
            {
                "key": "file",
                "name": "File it in the order",
                "type": "file",
                "workspace_type": "sales_order",
                "business_key": po,
                "workspace_name": f'"Order " & {po}',
                "document_type": "shipment_notice",
                "transfer": {
                    "source_system": "trigger.sender",
                    "source_id": "trigger.control_number",
                },
            },
            {
                "key": "act",
                "name": "Act on the shipment issue",
                "type": "approval",
                "group": "Reviewer",
                "title": "A shipment has a problem",
                "instructions": "Read the partner's status message in the "
                "order's workspace, tell the customer if the delivery date "
                "moves, and approve once it is handled.",
            },
        ],
    }


def supplier_onboarding(c: Mapping[str, int]) -> dict[str, Any]:
    """A supplier's onboarding document is missing: it is requested from the
    supplier on Trading Grid, and the document the supplier sends back is
    filed into the supplier's workspace as that checklist item."""
    kind = "trigger.document_type"
    return {
        "trigger": {"type": "manual"},
        "business_key": '"supplier:" & trigger.supplier',
        "tables": {"codes": REQUEST_CODES},
        "steps": [
            {
                "key": "workspace",
                "name": "Find the supplier's workspace",
                "type": "workspace",
                "workspace_type": "supplier",
                "business_key": "trigger.supplier",
                "workspace_name": "trigger.name",
            },
            {
                "key": "ask",
                "name": "Ask the supplier",
                "type": "action",
                "connection": c["grid"],
                "action": "request_document",
                "mapping": [
                    rule("partner_address", "trigger.partner"),
                    by_table("doc_type", kind, "codes", None),
                    rule("reference", "trigger.supplier"),
                    rule(
                        "text",
                        '"For your onboarding as our supplier we still need: " & '
                        f'$replace({kind}, "_", " ") & "."',
                    ),
                ],
            },
            {
                "key": "answer",
                "name": "Wait for the document",
                "type": "action",
                "connection": c["grid"],
                "action": "fetch_documents",
                "mapping": [rule("thread_id", "steps.ask.thread_id")],
                "retry": {"max_attempts": 12, "base_seconds": 60, "cap_seconds": 3600},
            },
            {
                "key": "file",
                "name": "File it in the supplier's workspace",
                "type": "file",
                "workspace_type": "supplier",
                "business_key": "trigger.supplier",
                "document": "answer",
                "document_type_from": kind,
                "transfer": {
                    "source_system": "trigger.partner",
                    "source_id": f'trigger.supplier & "/" & {kind}',
                },
            },
        ],
    }


def quality_incident(c: Mapping[str, int]) -> dict[str, Any]:
    """A recall notice goes to every partner that received the batch, one
    thread each; an hour later the acknowledgements are counted, and a
    partner still silent keeps the run open as a task to chase."""
    recall = "trigger.body.recall"
    reference = f'"RECALL-" & {recall}.number'
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"recall:" & {recall}.number',
        "steps": [
            {
                "key": "notify",
                "name": "Send the recall notice",
                "type": "action",
                "connection": c["grid"],
                "action": "notify_partners",
                "mapping": [
                    rule("partner_addresses", f"{recall}.partners"),
                    rule(
                        "subject",
                        f'"Recall " & {recall}.number & ": batch " & {recall}.batch',
                    ),
                    rule("case_reference", reference),
                    rule("text", f"{recall}.notice"),
                ],
            },
            {
                "key": "wait",
                "name": "Give the partners an hour",
                "type": "wait",
                "seconds": 3600,
            },
            {
                "key": "count",
                "name": "Count the acknowledgements",
                "type": "action",
                "connection": c["grid"],
                "action": "acknowledgements",
                "mapping": [rule("case_reference", reference)],
            },
            {
                "key": "all",
                "name": "Has everyone acknowledged?",
                "type": "condition",
                "expression": "steps.count.all_acknowledged",
                "otherwise": "fail",
                "message": "Not every partner has acknowledged the recall yet "
                "(see “Count the acknowledgements”): chase them, then retry.",
            },
        ],
    }


TEMPLATES = (
    FlowTemplate(
        key="order-reconciliation",
        title="Order acknowledgement reconciliation",
        summary="A partner's order acknowledgement is matched against the order; "
        "a difference waits for a reviewer, and a rejected one goes back to "
        "the partner with the reviewer's comment.",
        group="Trading partners",
        slots=(Slot("orders", "http", "Orders API", "Where orders are read."),),
        build=order_reconciliation,
        sample={"order": "ORD-1002", "total": "157.00", "currency": "EUR"},
    ),
    FlowTemplate(
        key="partner-case",
        title="Case collaboration with a partner",
        summary="A dispute, shipment issue or compliance case in Content "
        "Server opens a collaboration thread with the partner; only the "
        "status and the documents the case worker selects are shared.",
        group="Trading partners",
        slots=(
            Slot("events", "webhook", "Case updates", "The webhook cases post to."),
            ECM,
            GRID,
        ),
        build=partner_case,
        sample={
            "body": {
                "MessageId": "manual-1",
                "case": {
                    "number": "D-2026-8",
                    "subject": "Damaged pallet on PO-1001",
                    "partner": "ZZ:DEMORETAILER",
                    "status": "Investigating",
                },
            }
        },
    ),
    FlowTemplate(
        key="po-exception",
        title="Purchase-order exceptions",
        summary="An exception on a purchase order is published to the partner; "
        "the corrected document and explanation the partner sends back are "
        "filed in the order's workspace.",
        group="Trading partners",
        slots=(
            Slot("events", "webhook", "Order exceptions", "The webhook ERP posts to."),
            GRID,
            ECM,
        ),
        build=po_exception,
        prepare=preset("sales_order"),
        sample={
            "body": {
                "MessageId": "manual-1",
                "order": {"number": "PO-1001", "partner": "ZZ:DEMORETAILER"},
                "exception": "line 2 is priced 12.00, the contract says 11.50",
            }
        },
    ),
    FlowTemplate(
        key="partner-contract",
        title="Contract exchange",
        summary="An approved contract version is shared with the partner for "
        "review on its own thread; a partner that has not acknowledged it "
        "becomes a task to chase.",
        group="Trading partners",
        slots=(
            Slot("events", "webhook", "Approved contracts", "Where ECM posts."),
            ECM,
            GRID,
        ),
        build=partner_contract,
    ),
    FlowTemplate(
        key="shipment-issue",
        title="Shipment issues",
        summary="Delays, missing shipments and customs problems a logistics "
        "partner reports are filed in the order's workspace, and a reviewer "
        "is asked to act on them.",
        group="Trading partners",
        slots=(GRID, ECM),
        build=shipment_issue,
        prepare=preset("sales_order"),
    ),
    FlowTemplate(
        key="supplier-onboarding",
        title="Supplier onboarding",
        summary="A missing onboarding document is requested from the supplier "
        "through Trading Grid and filed into the supplier's workspace when "
        "it arrives.",
        group="Trading partners",
        slots=(GRID, ECM),
        build=supplier_onboarding,
        prepare=preset("supplier"),
        sample={
            "supplier": "V-2",
            "name": "Fabrikam",
            "partner": "ZZZ:DEMODIST",
            "document_type": "tax_form",
        },
    ),
    FlowTemplate(
        key="quality-incident",
        title="Recall / quality incident",
        summary="A recall notice goes to every partner that received the batch; "
        "their acknowledgements are tracked, and a partner still silent "
        "becomes a task to chase.",
        group="Trading partners",
        slots=(
            Slot("events", "webhook", "Quality events", "The webhook QA posts to."),
            GRID,
        ),
        build=quality_incident,
        sample={
            "body": {
                "MessageId": "manual-1",
                "recall": {
                    "number": "R-2026-3",
                    "batch": "B-77",
                    "partners": ["ZZ:DEMORETAILER", "ZZZ:DEMODIST"],
                    "notice": "Stop selling batch B-77 of the widget and confirm "
                    "the quantities you hold.",
                },
            }
        },
    ),
)
