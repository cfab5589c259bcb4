"""A demo flow over the demo connections, so ``make run`` shows a working flow.

Demo only: ``manage.py seed_demo`` calls ``seed_demo_flows``; production never
does. A partner posts a signed webhook about a new customer account; the flow
fetches the account's contract from the orders API, finds or creates the
customer's business workspace in Content Server, files the contract into it
with the account number as a category value, and confirms to the partner.
It can also be started by hand (Flows → the flow → Run now).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from connectors.models import Connection
from integrations import services
from integrations.models import Flow

DEMO_FLOW = "File new customer contracts"
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


@transaction.atomic
def seed_demo_flows(connections: list[Connection]) -> list[Flow]:
    """Create the demo flow once (active); later calls leave it as it is."""
    existing = Flow.objects.filter(name=DEMO_FLOW).first()
    if existing is not None:
        return [existing]
    by_key = {connection.connector_key: connection for connection in connections}
    if not {"webhook", "http", "otcs"} <= set(by_key):
        return []
    admin = get_user_model().objects.get(username="admin")
    flow = services.create_flow(
        DEMO_FLOW,
        demo_definition(by_key["webhook"].pk, by_key["http"].pk, by_key["otcs"].pk),
        admin,
        description="A partner tells us about a new customer account: its "
        "contract is filed into the customer's workspace in Content Server.",
        note="Demo flow",
        activate=True,
    )
    return [flow]
