"""Templates of section C: customer communications with Exstream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.flow_templates.base import (
    CRM,
    ECM,
    FlowTemplate,
    Slot,
    rule,
)


def event_to_communication(c: Mapping[str, int]) -> dict[str, Any]:
    """Dynamics posts "an account was created"; the account's current data
    is read, Exstream generates the welcome letter from it, and the letter
    is filed in Content Server as evidence of what the customer was sent."""
    account = "steps.account.record"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": '"account:" & trigger.body.PrimaryEntityId',
        "steps": [
            {
                "key": "account",
                "name": "Read the customer",
                "type": "action",
                "connection": c["crm"],
                "action": "get",
                "mapping": [
                    rule("entity_set", '"accounts"'),
                    rule("id", "trigger.body.PrimaryEntityId"),
                ],
            },
            {
                "key": "letters",
                "name": "Find the approved letter",
                "type": "action",
                "connection": c["exstream"],
                "action": "list_communications",
                "mapping": [rule("state", '"APPROVED"')],
            },
            {
                "key": "letter",
                "name": "Generate the welcome letter",
                "type": "action",
                "connection": c["exstream"],
                "action": "generate",
                "mapping": [
                    rule(
                        "communication_id",
                        'steps.letters.communications[name="Welcome letter"].id',
                    ),
                    rule("data.customerNumber", f"{account}.accountnumber"),
                    rule("data.customerName", f"{account}.name"),
                    rule("data.email", f"{account}.emailaddress1"),
                    rule("file_name", f'"welcome-" & {account}.accountnumber & ".pdf"'),
                ],
            },
            {
                "key": "archive",
                "name": "File it with the customer's communications",
                "type": "action",
                "connection": c["ecm"],
                "action": "upload_document",
                "document": "letter",
                "mapping": [
                    rule("parent_id", "2000"),
                    rule("folder_path", f'"Customer communications/" & {account}.name'),
                    rule("categories.9832_3", f"{account}.accountnumber"),
                ],
                "transfer": {
                    "source_system": '"Exstream"',
                    "source_id": 'trigger.body.PrimaryEntityId & "/welcome"',
                },
            },
        ],
    }


TEMPLATES = (
    FlowTemplate(
        key="event-to-communication",
        title="Event-driven generation",
        summary="A new account in Dynamics 365 makes Exstream generate the "
        "welcome letter from the customer's current data; the letter is filed "
        "in Content Server as evidence of what was sent.",
        group="Customer communications",
        slots=(
            Slot(
                "events",
                "webhook",
                "Dynamics 365 events",
                "The webhook Dynamics 365 posts its plug-in messages to.",
            ),
            CRM,
            Slot("exstream", "exstream", "Exstream", "Where letters are generated."),
            ECM,
        ),
        build=event_to_communication,
        sample={
            "body": {
                "MessageId": "manual-1",
                "MessageName": "Create",
                "PrimaryEntityName": "account",
                "PrimaryEntityId": "aaaaaaaa-0000-4000-8000-000000000001",
            }
        },
    ),
)
