"""Demo flows over the demo connections, and runs of them that give the
reviewers' inbox real work, so ``make run`` shows the platform at work.

Demo only: ``manage.py seed_demo`` calls ``seed_demo_flows``; production never
does.

- "File new customer contracts": a partner posts a signed webhook about a new
  customer account; the flow fetches the account's contract from the orders
  API, finds or creates the customer's business workspace in Content Server,
  files the contract into it with the account number as a category value,
  and confirms to the partner. It can also be started by hand.
- "Approve large payments": a reviewer approves, or rejects with a comment
  that is sent back to the orders API.
- "Match invoices to orders": an invoice is compared with its order in the
  orders API; a difference waits for Accounts payable to accept or reject.
- "Collect supplier documents": files what a supplier sends into its
  workspace, against the supplier checklist.
- "Keep customer metadata in step": each emulated Dynamics 365 account gets
  its customer workspace, and the customer type's sync rules copy its name,
  number, city and telephone into the workspace's category.
- "Send purchase orders": an X12 850 goes to a partner through Trading Grid.

The seeded runs are queued, not faked: the worker runs them against the
emulators when ``make run`` starts, and the ones that need a person open
tasks (an approval, a reconciliation mismatch, a partner exception and
incomplete metadata). Each has an idempotency key, so seeding again starts
none twice.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from connectors.dynamics.emulator.state import DEMO_ACCOUNTS
from connectors.models import Connection
from integrations import services
from integrations.models import Flow

DEMO_FLOW = "File new customer contracts"
PAYABLES = "Accounts payable"  # the demo's second review queue
SAMPLE_PAYLOAD = {
    "body": {
        "account": {"id": "ACC-1001", "name": "Acme GmbH", "number": "A-1001"},
    }
}


def _rule(target: str, expression: str) -> dict[str, str]:
    return {"target": target, "expression": expression}


def demo_definition(hook: int, orders: int, otcs: int) -> dict[str, Any]:
    account = "trigger.body.account"
    return {
        "trigger": {"type": "webhook", "connection": hook},
        "business_key": f'"account:" & {account}.id',
        "steps": [
            {
                "key": "contract",
                "name": "Fetch the contract",
                "type": "action",
                "connection": orders,
                "action": "download",
                "mapping": [
                    _rule("path", f'"documents/contract-" & {account}.id & ".txt"')
                ],
            },
            {
                "key": "workspace",
                "name": "Find or create the customer workspace",
                "type": "action",
                "connection": otcs,
                "action": "find_or_create_workspace",
                "mapping": [
                    _rule("ext_system_id", '"D365"'),
                    _rule("bo_type", '"account"'),
                    _rule("bo_id", f"{account}.id"),
                    _rule("name", f"{account}.name"),
                    _rule("workspace_type", "16"),
                    _rule("parent_id", "2000"),
                ],
            },
            {
                "key": "file",
                "name": "File the contract",
                "type": "action",
                "connection": otcs,
                "action": "upload_document",
                "document": "contract",
                "mapping": [
                    _rule("parent_id", "steps.workspace.workspace_id"),
                    _rule("folder_path", '"Contracts"'),
                    _rule("categories.9830_2", f"{account}.number"),
                ],
                "transfer": {
                    "source_system": '"Partner portal"',
                    "source_id": f'{account}.id & "/contract"',
                },
            },
            {
                "key": "confirm",
                "name": "Confirm to the partner",
                "type": "action",
                "connection": orders,
                "action": "request",
                "mapping": [
                    _rule("method", '"POST"'),
                    _rule("path", '"echo"'),
                    _rule(
                        "body",
                        '{"account": trigger.body.account.id, '
                        '"filed_as": steps.file.node_id}',
                    ),
                ],
            },
        ],
    }


def _send_back(key: str, name: str, orders: int, field: str) -> dict[str, Any]:
    """A step that sends the reviewer's comment back to the orders API."""
    return {
        "key": key,
        "name": name,
        "type": "action",
        "connection": orders,
        "action": "request",
        "mapping": [
            _rule("method", '"POST"'),
            _rule("path", '"echo"'),
            _rule(
                "body",
                f'{{"invoice": trigger.invoice, "{field}": vars.approval.comment}}',
            ),
        ],
    }


def payment_definition(orders: int) -> dict[str, Any]:
    return {
        "trigger": {"type": "manual"},
        "business_key": '"invoice:" & trigger.invoice',
        "steps": [
            {
                "key": "approve",
                "name": "Approve the payment",
                "type": "approval",
                "group": "Reviewer",
                "title": "Approve a large payment",
                "instructions": "Payments of 10,000 or more need a second pair "
                "of eyes: check the supplier and the amount against the invoice.",
                "on_reject": "tell",
            },
            {
                "key": "pay",
                "name": "Release the payment",
                "type": "set",
                "next": "end",
                "variables": [{"name": "released", "expression": "trigger.invoice"}],
            },
            _send_back("tell", "Tell the requester why", orders, "rejected"),
        ],
    }


def invoice_definition(orders: int) -> dict[str, Any]:
    return {
        "trigger": {"type": "manual"},
        "business_key": '"invoice:" & trigger.invoice',
        "steps": [
            {
                "key": "order",
                "name": "Read the order",
                "type": "action",
                "connection": orders,
                "action": "request",
                "mapping": [
                    _rule("method", '"GET"'),
                    _rule("path", '"orders/" & trigger.order'),
                ],
            },
            {
                "key": "match",
                "name": "Invoice against order",
                "type": "reconcile",
                "group": PAYABLES,
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
                "key": "book",
                "name": "Book the invoice",
                "type": "set",
                "next": "end",
                "variables": [{"name": "booked", "expression": "trigger.invoice"}],
            },
            _send_back("dispute", "Dispute the invoice", orders, "disputed"),
        ],
    }


def order_definition(tradinggrid: int) -> dict[str, Any]:
    return {
        "trigger": {"type": "manual"},
        "business_key": '"purchase order:" & trigger.po',
        "steps": [
            {
                "key": "send",
                "name": "Send the order to the partner",
                "type": "action",
                "connection": tradinggrid,
                "action": "send_document",
                "mapping": [
                    _rule("receiver_address", "trigger.partner"),
                    _rule("content", "trigger.edi"),
                ],
            }
        ],
    }


SUPPLIER_DOCUMENTS = ("tax_form", "bank_details", "insurance", "signed_contract")


def supplier_definition(orders: int) -> dict[str, Any]:
    files = [
        {
            "key": kind,
            "name": f"File the {kind.replace('_', ' ')}",
            "type": "file",
            "workspace_type": "supplier",
            "business_key": "trigger.vendor",
            "workspace_name": "trigger.name",
            "document": "download",
            "document_type": kind,
            "valid_until": "trigger.valid_until" if kind == "insurance" else "",
            "transfer": {
                "source_system": '"Supplier portal"',
                "source_id": 'trigger.vendor & "/" & trigger.file',
            },
            "next": "end",
        }
        for kind in SUPPLIER_DOCUMENTS
    ]
    return {
        "trigger": {"type": "manual"},
        # The workspace's own key, so the workspace's timeline shows these runs.
        "business_key": "trigger.vendor",
        "steps": [
            {
                "key": "download",
                "name": "Fetch the document from the supplier portal",
                "type": "action",
                "connection": orders,
                "action": "download",
                "mapping": [_rule("path", '"documents/" & trigger.file')],
            },
            {
                "key": "which",
                "name": "Which document is it?",
                "type": "router",
                "routes": [
                    {"when": f'trigger.document_type = "{kind}"', "goto": kind}
                    for kind in SUPPLIER_DOCUMENTS
                ],
            },
            *files,
        ],
    }


ORDER_850 = (
    "ST*850*0001~BEG*00*SA*{po}**20261201~"
    "PO1*1*10*EA*2.50**VP*WIDGET~PO1*2*4*EA*12.00**VP*GADGET~SE*5*0001~"
)


def customer_sync_definition() -> dict[str, Any]:
    """A Dynamics 365 account's workspace, kept in step with the account by
    the customer type's sync rules."""
    return {
        "trigger": {"type": "manual"},
        "business_key": "trigger.number",
        "steps": [
            {
                "key": "workspace",
                "name": "Find or create the customer workspace",
                "type": "workspace",
                "workspace_type": "customer",
                "business_key": "trigger.number",
                "workspace_name": "trigger.name",
                "links": [
                    {
                        "system": "dynamics",
                        "object_type": "accounts",
                        "object_id": "trigger.id",
                    }
                ],
            },
            {
                "key": "sync",
                "name": "Sync its metadata with Dynamics 365",
                "type": "sync",
                "workspace_type": "customer",
                "business_key": "trigger.number",
            },
        ],
    }


def _order(partner: str, number: str) -> dict[str, str]:
    return {"partner": partner, "po": number, "edi": ORDER_850.format(po=number)}


# name, connectors it needs, definition, description, runs (key, payload).
DEMO_FLOWS: list[tuple[str, tuple[str, ...], Any, str, list[tuple[str, Any]]]] = [
    (
        DEMO_FLOW,
        ("webhook", "http", "otcs"),
        lambda c: demo_definition(c["webhook"], c["http"], c["otcs"]),
        "A partner tells us about a new customer account: its contract is "
        "filed into the customer's workspace in Content Server.",
        [
            # The partner left the account's name out: a reviewer fills it in.
            (
                "demo-contract-1",
                {"body": {"account": {"id": "ACC-1017", "number": "A-1017"}}},
            ),
        ],
    ),
    (
        "Approve large payments",
        ("http",),
        lambda c: payment_definition(c["http"]),
        "Payments of 10,000 or more wait for a reviewer; a rejection is sent "
        "back with the reviewer's comment.",
        [
            (
                "demo-payment-1",
                {
                    "invoice": "INV-2026-0412",
                    "supplier": "Globex Corp",
                    "amount": 18450.0,
                    "currency": "EUR",
                },
            ),
        ],
    ),
    (
        "Match invoices to orders",
        ("http",),
        lambda c: invoice_definition(c["http"]),
        "Each supplier invoice is compared with its order; a difference waits "
        "for Accounts payable.",
        [
            (
                "demo-invoice-1",
                {
                    "invoice": "INV-77120",
                    "order": "ORD-1002",
                    "total": "157.00",
                    "currency": "EUR",
                },
            ),
            (
                "demo-invoice-2",
                {
                    "invoice": "INV-77131",
                    "order": "ORD-1004",
                    "total": "225.00",
                    "currency": "EUR",
                },
            ),
        ],
    ),
    (
        "Collect supplier documents",
        ("http", "otcs"),
        lambda c: supplier_definition(c["http"]),
        "Onboarding documents a supplier uploads to the portal are filed into "
        "the supplier's workspace, against its checklist.",
        [
            (
                f"demo-supplier-{kind}",
                {
                    "vendor": "V-1001",
                    "name": "Fabrikam Supplies",
                    "document_type": kind,
                    "file": f"fabrikam-{kind.replace('_', '-')}.pdf",
                    "valid_until": "2027-06-30",
                },
            )
            for kind in ("tax_form", "insurance")
        ],
    ),
    (
        "Keep customer metadata in step",
        ("dynamics", "otcs"),
        lambda c: customer_sync_definition(),
        "Each customer's workspace in Content Server holds the name, number, "
        "city and telephone of its Dynamics 365 account; a field changed on "
        "both sides waits for a reviewer.",
        [
            (
                f"demo-customer-sync-{number}",
                {"id": record_id, "number": number, "name": name},
            )
            for record_id, name, number, _ in DEMO_ACCOUNTS
        ],
    ),
    (
        "Send purchase orders",
        ("tradinggrid",),
        lambda c: order_definition(c["tradinggrid"]),
        "Purchase orders go out to trading partners as X12 850 through Trading Grid.",
        [
            (
                "demo-order-1",
                _order("ZZ:DEMORETAILER", "PO-4711"),
            ),
            # A supplier not yet connected on Trading Grid: a partner exception.
            (
                "demo-order-2",
                _order("ZZ:NEWSUPPLIER", "PO-4712"),
            ),
        ],
    ),
]


@transaction.atomic
def seed_demo_flows(connections: list[Connection]) -> list[Flow]:
    """Create each demo flow once (active) and queue its demo runs once;
    later calls leave both as they are. A flow whose connections are not
    there is skipped."""
    by_key = {connection.connector_key: connection.pk for connection in connections}
    users = get_user_model().objects
    admin = users.get(username="admin")
    payables, _ = Group.objects.get_or_create(name=PAYABLES)
    # The demo reviewer works two queues, so the inbox shows counts per queue.
    payables.user_set.add(*users.filter(username="reviewer"))
    flows = []
    for name, needs, definition, description, runs in DEMO_FLOWS:
        flow = Flow.objects.filter(name=name).first()
        if flow is None:
            if not set(needs) <= set(by_key):
                continue
            flow = services.create_flow(
                name,
                definition(by_key),
                admin,
                description=description,
                note="Demo flow",
                activate=True,
            )
        for key, payload in runs:
            services.start_run(flow, payload, admin, idempotency_key=key)
        flows.append(flow)
    return flows
