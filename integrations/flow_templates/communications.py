"""Templates of section C: customer communications with Exstream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.flow_templates.base import (
    CRM,
    ECM,
    EXSTREAM,
    FlowTemplate,
    Slot,
    by_table,
    communication,
    list_approved,
    preset,
    rule,
)

TODAY = "$substring($now(), 0, 10)"


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


def case_correspondence(c: Mapping[str, int]) -> dict[str, Any]:
    """A case decision is taken in Content Server (its workflow posts the
    decision); Exstream writes the letter that says so, and the letter is
    filed into the case's workspace with the rest of the correspondence."""
    case = "trigger.body.case"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"case:" & {case}.number',
        "tables": {
            "decisions": {
                "missing_information": "we need more information before we can "
                "decide. Please send the documents listed in our request.",
                "denial": "we cannot accept your claim. The reasons are set out "
                "in the enclosed decision.",
                "settlement": "we accept your claim and will pay the amount agreed.",
                "reminder": "we are still waiting for the documents we asked for.",
            }
        },
        "steps": [
            {
                "key": "workspace",
                "name": "Find the case's workspace",
                "type": "workspace",
                "workspace_type": "case",
                "business_key": f"{case}.number",
                "workspace_name": f'"Case " & {case}.number & " " & {case}.customer',
            },
            list_approved(c["exstream"]),
            {
                "key": "letter",
                "name": "Write the decision letter",
                "type": "action",
                "connection": c["exstream"],
                "action": "generate",
                "mapping": [
                    rule("communication_id", communication("Case decision")),
                    rule("data.customerName", f"{case}.customer"),
                    rule("data.caseNumber", f"{case}.number"),
                    by_table(
                        "data.decision", "trigger.body.decision", "decisions", None
                    ),
                    rule(
                        "file_name",
                        f'"decision-" & {case}.number & "-" & trigger.body.decision '
                        '& ".pdf"',
                    ),
                ],
            },
            {
                "key": "file",
                "name": "File it in the case",
                "type": "file",
                "workspace_type": "case",
                "business_key": f"{case}.number",
                "document": "letter",
                "document_type": "correspondence",
                "transfer": {
                    "source_system": '"Exstream"',
                    "source_id": f'{case}.number & "/" & trigger.body.decision',
                },
            },
        ],
    }


def communication_approval(c: Mapping[str, int]) -> dict[str, Any]:
    """A changed communication waits in Exstream's review; a compliance
    reviewer reads it and decides. Approved, it is released (Exstream
    generates it from then on); rejected, it goes back to draft and its
    author gets the reviewer's comment by e-mail."""
    name = "trigger.communication"
    found = f"steps.review.communications[name=$$.{name}]"
    return {
        "trigger": {"type": "manual"},
        "business_key": f'"communication:" & {name}',
        "steps": [
            {
                "key": "review",
                "name": "Find the communications in review",
                "type": "action",
                "connection": c["exstream"],
                "action": "list_communications",
                "mapping": [rule("state", '"REVIEW"')],
            },
            {
                "key": "waiting",
                "name": "Is it waiting for review?",
                "type": "condition",
                "expression": f"$exists({found})",
                "otherwise": "fail",
                "message": "The communication is not in review in Exstream: "
                "submit it for review there, then replay this run.",
            },
            {
                "key": "approve",
                "name": "Compliance approval",
                "type": "approval",
                "group": "Reviewer",
                "title": "Approve a regulated communication",
                "instructions": "Read the changed text against the rules for "
                "regulated content (disclosures, fees, cancellation rights). "
                "Approve to release it; reject with a comment to send it back.",
                "on_reject": "reject",
            },
            {
                "key": "release",
                "name": "Release it",
                "type": "action",
                "connection": c["exstream"],
                "action": "set_state",
                "next": "end",
                "mapping": [
                    rule("communication_id", f"{found}.id"),
                    rule("state", '"APPROVED"'),
                ],
            },
            {
                "key": "reject",
                "name": "Send it back",
                "type": "action",
                "connection": c["exstream"],
                "action": "set_state",
                "mapping": [
                    rule("communication_id", f"{found}.id"),
                    rule("state", '"REJECTED"'),
                ],
            },
            {
                "key": "tell_author",
                "name": "Tell the author why",
                "type": "action",
                "connection": c["email"],
                "action": "send",
                "mapping": [
                    rule("to", "[trigger.author]"),
                    rule("subject", f'"Changes needed: " & {name}'),
                    rule(
                        "body_text",
                        f'"Your change to " & {name} & " was sent back by " & '
                        'steps.approve.by & ":\n\n" & steps.approve.comment',
                    ),
                ],
            },
        ],
    }


def channel_routing(c: Mapping[str, int]) -> dict[str, Any]:
    """The billing system says an invoice is ready; Exstream renders it and
    the customer gets it the way the rules say: a legal notice always on
    paper, otherwise by the customer's preference (e-mail, SMS with the
    document on the portal, or the portal alone)."""
    customer = "trigger.body.customer"
    invoice = "trigger.body.invoice"
    number = f"{invoice}.number"
    kind, channel = "trigger.body.document_type", f"{customer}.preferred_channel"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": f'"invoice:" & {number}',
        "steps": [
            list_approved(c["exstream"]),
            {
                "key": "letter",
                "name": "Render the invoice",
                "type": "action",
                "connection": c["exstream"],
                "action": "generate",
                "mapping": [
                    rule("communication_id", communication("Invoice letter")),
                    rule("data.customerNumber", f"{customer}.number"),
                    rule("data.customerName", f"{customer}.name"),
                    rule("data.invoiceNumber", number),
                    rule("data.amount", f"{invoice}.amount"),
                    rule("data.currency", f"{invoice}.currency"),
                    rule("data.dueDate", f"{invoice}.due"),
                    rule("file_name", f'"invoice-" & {number} & ".pdf"'),
                ],
            },
            {
                "key": "route",
                "name": "Which channel?",
                "type": "router",
                "routes": [
                    {
                        "when": f'{kind} = "legal_notice"',
                        "goto": "print",
                    },
                    {
                        "when": f'{channel} = "email"',
                        "goto": "email",
                    },
                    {"when": f'{channel} = "sms"', "goto": "sms"},
                ],
                "default": "portal",
            },
            {
                "key": "print",
                "name": "Send to the print provider",
                "type": "action",
                "connection": c["print"],
                "action": "write_file",
                "document": "letter",
                "next": "end",
                "mapping": [rule("overwrite", '"replace"')],
                "transfer": {"source_system": '"Exstream"', "source_id": number},
            },
            {
                "key": "email",
                "name": "E-mail it",
                "type": "action",
                "connection": c["email"],
                "action": "send",
                "document": "letter",
                "next": "end",
                "mapping": [
                    rule("to", f"[{customer}.email]"),
                    rule("subject", f'"Your invoice " & {number}'),
                    rule(
                        "body_text",
                        f'"Dear " & {customer}.name & ",\n\nyour invoice " & '
                        f'{number} & " is attached."',
                    ),
                    rule("attach_documents", "true"),
                ],
                "transfer": {"source_system": '"Exstream"', "source_id": number},
            },
            {
                "key": "sms",
                "name": "Text the customer",
                "type": "action",
                "connection": c["sms"],
                "action": "request",
                "mapping": [
                    rule("method", '"POST"'),
                    rule("path", '"sms/messages"'),
                    rule(
                        "body",
                        f'{{"to": {customer}.mobile, "text": "Your invoice " & '
                        f'{number} & " is ready in your customer portal."}}',
                    ),
                ],
            },
            {
                "key": "portal",
                "name": "Publish it on the portal",
                "type": "action",
                "connection": c["ecm"],
                "action": "upload_document",
                "document": "letter",
                "mapping": [
                    rule("parent_id", "2000"),
                    rule("folder_path", f'"Customer portal/" & {customer}.number'),
                ],
                "transfer": {"source_system": '"Exstream"', "source_id": number},
            },
        ],
    }


def delivery_feedback(c: Mapping[str, int]) -> dict[str, Any]:
    """Exstream reports that a communication was delivered, viewed or
    bounced; the customer's Dynamics 365 account gets a note saying so,
    and a bounce opens a follow-up task for a reviewer."""
    name = "steps.letters.communications[id=$$.trigger.communication].name"
    return {
        "trigger": {
            "type": "webhook",
            "connection": c["exstream"],
            "trigger": "receive",
        },
        "business_key": '"recipient:" & trigger.recipient',
        "steps": [
            {
                "key": "letters",
                "name": "Name the communication",
                "type": "action",
                "connection": c["exstream"],
                "action": "list_communications",
                "mapping": [],
            },
            {
                "key": "customer",
                "name": "Find the customer",
                "type": "action",
                "connection": c["crm"],
                "action": "query",
                "mapping": [
                    rule("entity_set", '"accounts"'),
                    rule(
                        "filter",
                        '"emailaddress1 eq \'" & $replace(trigger.recipient, "\'", '
                        '"\'\'") & "\'"',
                    ),
                    rule("select", '["accountid", "name"]'),
                    rule("limit", "1"),
                ],
            },
            {
                "key": "known",
                "name": "Only customers known in Dynamics 365",
                "type": "condition",
                "expression": "$count(steps.customer.records) > 0",
                "otherwise": "fail",
                "message": "No account in Dynamics 365 has this e-mail address: "
                "correct the address there, then replay this run.",
            },
            {
                "key": "note",
                "name": "Note it on the account",
                "type": "action",
                "connection": c["crm"],
                "action": "create",
                "mapping": [
                    rule("entity_set", '"annotations"'),
                    rule(
                        "values",
                        f'{{"subject": {name} & " " & trigger.event, '
                        f'"notetext": {name} & " " & trigger.event & " by " & '
                        '$lowercase(trigger.channel) & " to " & trigger.recipient & '
                        '" on " & $substring(trigger.occurred_at, 0, 10) & ".", '
                        '"objectid_account@odata.bind": "/accounts(" & '
                        'steps.customer.records[0].accountid & ")"}',
                    ),
                ],
            },
            {
                "key": "bounced",
                "name": "Did it bounce?",
                "type": "condition",
                "expression": 'trigger.event = "bounced"',
                "otherwise": "stop",
            },
            {
                "key": "follow_up",
                "name": "Follow up the bounce",
                "type": "approval",
                "group": "Reviewer",
                "title": "A communication bounced",
                "instructions": "The customer did not receive it. Reach them "
                "another way (telephone, post) or correct their address in "
                "Dynamics 365, then approve to close the follow-up.",
            },
        ],
    }


def governed_content(c: Mapping[str, int]) -> dict[str, Any]:
    """A text block (a disclaimer, a fee table) is approved in Content
    Server, whose workflow posts the document; the approved text goes into
    the communication in Exstream, which is released with it, and a sample
    rendered from it is archived as evidence of what customers now get."""
    block = "steps.block.categories"
    target = "steps.letters.communications[name=$$.steps.block.categories.`9834_2`]"
    return {
        "trigger": {"type": "webhook", "connection": c["events"]},
        "business_key": '"content-block:" & $string(trigger.body.node_id)',
        "steps": [
            {
                "key": "block",
                "name": "Read the approved text",
                "type": "action",
                "connection": c["ecm"],
                "action": "get_node",
                "mapping": [rule("node_id", "trigger.body.node_id")],
            },
            {
                "key": "letters",
                "name": "Find the communication",
                "type": "action",
                "connection": c["exstream"],
                "action": "list_communications",
                "mapping": [],
            },
            {
                "key": "update",
                "name": "Put the text into the communication",
                "type": "action",
                "connection": c["exstream"],
                "action": "update_content_block",
                "mapping": [
                    rule("communication_id", f"{target}.id"),
                    rule("block", f"{block}.`9834_3`"),
                    rule("content", f"{block}.`9834_4`"),
                    rule("submit_for_review", "true"),
                ],
            },
            {
                "key": "release",
                "name": "Release it (approved in Content Server)",
                "type": "action",
                "connection": c["exstream"],
                "action": "set_state",
                "mapping": [
                    rule("communication_id", f"{target}.id"),
                    rule("state", '"APPROVED"'),
                ],
            },
            {
                "key": "sample",
                "name": "Render a sample",
                "type": "action",
                "connection": c["exstream"],
                "action": "generate",
                "mapping": [
                    rule("communication_id", f"{target}.id"),
                    rule(
                        "data",
                        f"$merge($map({target}.required_fields, function($f) "
                        '{ {$f: "[" & $f & "]"} }))',
                    ),
                    rule(
                        "file_name",
                        '"sample-" & $string(trigger.body.node_id) & ".pdf"',
                    ),
                ],
            },
            {
                "key": "evidence",
                "name": "Archive the sample as evidence",
                "type": "action",
                "connection": c["ecm"],
                "action": "upload_document",
                "document": "sample",
                "mapping": [
                    rule("parent_id", "2000"),
                    rule(
                        "folder_path",
                        f'"Compliance evidence/" & {block}.`9834_2`',
                    ),
                    rule("description", f'"Rendered with block " & {block}.`9834_3`'),
                ],
                "transfer": {
                    "source_system": '"Content Server"',
                    "source_id": '$string(trigger.body.node_id) & "/sample"',
                    "source_version": "$string($exists(trigger.body.version) ? "
                    "trigger.body.version : 1)",
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
    FlowTemplate(
        key="case-correspondence",
        title="Case correspondence",
        summary="A decision on a case in Content Server (more information "
        "needed, denial, settlement, reminder) makes Exstream write the "
        "letter, which is filed back into the case's workspace.",
        group="Customer communications",
        slots=(
            Slot(
                "events",
                "webhook",
                "Case decisions",
                "The webhook Content Server's case workflow posts its decisions to.",
            ),
            EXSTREAM,
            ECM,
        ),
        build=case_correspondence,
        prepare=preset("case"),
        sample={
            "body": {
                "MessageId": "manual-1",
                "case": {"number": "CL-2026-14", "customer": "Contoso Ltd"},
                "decision": "missing_information",
            }
        },
    ),
    FlowTemplate(
        key="communication-approval",
        title="Approval before release",
        summary="A changed communication for regulated content waits for a "
        "compliance reviewer. Approved, Exstream releases it; rejected, it "
        "goes back to draft and its author gets the reviewer's comment.",
        group="Customer communications",
        slots=(
            EXSTREAM,
            Slot("email", "email", "E-mail", "How the author is told."),
        ),
        build=communication_approval,
        sample={"communication": "Contract renewal", "author": "editor@example.com"},
    ),
    FlowTemplate(
        key="channel-routing",
        title="Channel routing",
        summary="Each rendered invoice goes out the way the rules say: legal "
        "notices on paper through the print provider, otherwise by the "
        "customer's preference: e-mail, a text message with the invoice on "
        "the portal, or the portal alone.",
        group="Customer communications",
        slots=(
            Slot(
                "events", "webhook", "Billing events", "The webhook billing posts to."
            ),
            EXSTREAM,
            Slot("email", "email", "E-mail", "How invoices are e-mailed."),
            Slot("print", "files", "Print provider", "The folder it collects from."),
            Slot("sms", "http", "SMS gateway", "How text messages are sent."),
            Slot("ecm", "otcs", "Customer portal", "The Content Server it reads."),
        ),
        build=channel_routing,
        sample={
            "body": {
                "MessageId": "manual-1",
                "document_type": "invoice",
                "customer": {
                    "number": "C-1001",
                    "name": "Contoso Ltd",
                    "email": "billing@contoso.example",
                    "mobile": "+4915123456789",
                    "preferred_channel": "email",
                },
                "invoice": {
                    "number": "INV-1001",
                    "amount": "157.30",
                    "currency": "EUR",
                    "due": "2026-12-31",
                },
            }
        },
    ),
    FlowTemplate(
        key="delivery-feedback",
        title="Delivery feedback",
        summary="Delivered, viewed and bounced reports from Exstream are "
        "noted on the customer's Dynamics 365 account; a bounce opens a "
        "follow-up task.",
        group="Customer communications",
        slots=(EXSTREAM, CRM),
        build=delivery_feedback,
    ),
    FlowTemplate(
        key="governed-content",
        title="Governed content to templates",
        summary="A text block approved in Content Server goes into its "
        "communication in Exstream, which is released with it; a sample "
        "rendered from it is archived as evidence of compliance.",
        group="Customer communications",
        slots=(
            Slot(
                "events",
                "webhook",
                "Approved content",
                "The webhook Content Server's approval workflow posts to.",
            ),
            ECM,
            EXSTREAM,
        ),
        build=governed_content,
        sample={"body": {"MessageId": "manual-1", "node_id": 100000, "version": 1}},
    ),
)
