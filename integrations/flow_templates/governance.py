"""Templates of section E: approvals and governance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.flow_templates.base import (
    CRM,
    FlowTemplate,
    rule,
)


def deal_approval(c: Mapping[str, int]) -> dict[str, Any]:
    """A salesperson asks for a special discount on an opportunity; the
    opportunity is read from Dynamics, a reviewer decides, and the decision
    with the reviewer's comment goes back to the opportunity as a note
    (an annotation on it)."""
    note = (
        '"Discount of " & $string(trigger.discount) & "% " & '
        "steps.approve.decision & "
        '" by " & steps.approve.by & ($length(steps.approve.comment) > 0 ? '
        '": " & steps.approve.comment : "")'
    )
    return {
        "trigger": {"type": "manual"},
        "business_key": '"opportunity:" & trigger.opportunity',
        "steps": [
            {
                "key": "opportunity",
                "name": "Read the opportunity",
                "type": "action",
                "connection": c["crm"],
                "action": "get",
                "mapping": [
                    rule("entity_set", '"opportunities"'),
                    rule("id", "trigger.opportunity"),
                ],
            },
            {
                "key": "approve",
                "name": "Approve the discount",
                "type": "approval",
                "group": "Reviewer",
                "title": "Approve a special discount",
                "instructions": "Check the justification and the deal's value "
                "before you approve a discount above the standard terms.",
                "on_reject": "decision",
            },
            {
                "key": "decision",
                "name": "Tell Dynamics 365",
                "type": "action",
                "connection": c["crm"],
                "action": "create",
                "mapping": [
                    rule("entity_set", '"annotations"'),
                    rule(
                        "values",
                        '{"subject": "Discount decision", "notetext": '
                        + note
                        + ', "objectid_opportunity@odata.bind": "/opportunities(" & '
                        'trigger.opportunity & ")"}',
                    ),
                ],
            },
        ],
    }


TEMPLATES = (
    FlowTemplate(
        key="deal-approval",
        title="Deal approval",
        summary="A special discount on a Dynamics 365 opportunity waits for a "
        "reviewer; the decision and the reviewer's comment go back to the "
        "opportunity as a note.",
        group="Approvals and governance",
        slots=(CRM,),
        build=deal_approval,
        sample={
            "opportunity": "00000000-0000-0000-0000-000000000000",
            "discount": 15,
            "justification": "Three-year commitment",
        },
    ),
)
