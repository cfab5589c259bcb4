"""Templates of section D: trading partners."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.flow_templates.base import (
    FlowTemplate,
    Slot,
    rule,
)


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
)
