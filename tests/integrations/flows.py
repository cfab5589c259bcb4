"""A contract-filing flow against the emulators, shared by the engine tests.

A Dynamics-style ``RemoteExecutionContext`` (account created) arrives at the
flow's webhook; the flow downloads the account's contract from the orders
API, finds or creates the account's business workspace in Content Server,
files the contract into it with category values, and posts the link back.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from django.utils import timezone

from audit.services import Actor
from connectors import services as connection_services
from connectors.models import Connection
from integrations import services
from integrations.engine.runner import execute_run
from integrations.models import Flow, FlowRun, RunStatus

HOOK_SECRET = "hook-secret-for-tests"
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.RETRYING, RunStatus.WAITING)


@dataclass
class Systems:
    url: str
    otcs: Connection
    orders: Connection
    hook: Connection


def make_systems(url: str, user: Any) -> Systems:
    actor = Actor.user(user)
    otcs = connection_services.create_connection(
        actor,
        connector_key="otcs",
        name="Content Server",
        settings={"base_url": f"{url}/sandbox/otcs/api/", "username": "admin"},
        secrets={"password": "sandbox-admin"},
    )
    orders = connection_services.create_connection(
        actor,
        connector_key="http",
        name="Orders API",
        settings={"base_url": f"{url}/sandbox/http/", "auth": {"type": "bearer"}},
        secrets={"auth__token": "sandbox-token"},
    )
    hook = connection_services.create_connection(
        actor,
        connector_key="webhook",
        name="Dynamics events",
        settings={
            "verification": "shared_secret_header",
            "header_name": "X-Webhook-Secret",
            "event_id_source": "body:MessageId",
        },
        secrets={"secret": HOOK_SECRET},
    )
    return Systems(url, otcs, orders, hook)


def account_id(number: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"account-{number}"))


def account_event(number: int, *, message: str = "") -> dict[str, Any]:
    """What Dynamics 365 posts when an account is created."""
    entity = account_id(number)
    return {
        "MessageId": message or f"msg-{number}",
        "MessageName": "Create",
        "PrimaryEntityName": "account",
        "PrimaryEntityId": entity,
        "InputParameters": [
            {
                "key": "Target",
                "value": {
                    "LogicalName": "account",
                    "Id": entity,
                    "Attributes": [
                        {"key": "name", "value": f"Customer {number}"},
                        {"key": "accountnumber", "value": f"A-{number:04d}"},
                    ],
                },
            }
        ],
    }


TARGET = 'trigger.body.InputParameters[key="Target"].value'


def rule(target: str, expression: str) -> dict[str, str]:
    return {"target": target, "expression": expression}


def contract_definition(systems: Systems, **changes: Any) -> dict[str, Any]:
    """The flow's definition; ``changes`` replace whole steps by key."""
    steps = [
        {
            "key": "contract",
            "type": "action",
            "connection": systems.orders.pk,
            "action": "download",
            "mapping": [
                rule(
                    "path",
                    '"documents/contract-" & trigger.body.PrimaryEntityId & ".txt"',
                )
            ],
        },
        {
            "key": "workspace",
            "type": "action",
            "connection": systems.otcs.pk,
            "action": "find_or_create_workspace",
            "mapping": [
                rule("ext_system_id", '"D365"'),
                rule("bo_type", "trigger.body.PrimaryEntityName"),
                rule("bo_id", "trigger.body.PrimaryEntityId"),
                rule("name", f'{TARGET}.Attributes[key="name"].value'),
                rule("workspace_type", "16"),
                rule("parent_id", "2000"),
            ],
        },
        {
            "key": "file",
            "type": "action",
            "connection": systems.otcs.pk,
            "action": "upload_document",
            "document": "contract",
            "mapping": [
                rule("parent_id", "steps.workspace.workspace_id"),
                rule("folder_path", '"Contracts"'),
                rule(
                    "categories.9830_2",
                    f'{TARGET}.Attributes[key="accountnumber"].value',
                ),
            ],
            "transfer": {
                "source_system": '"D365"',
                "source_id": 'trigger.body.PrimaryEntityId & "/contract"',
                "source_version": '"1"',
            },
        },
        {
            "key": "link_back",
            "type": "action",
            "connection": systems.orders.pk,
            "action": "request",
            "mapping": [
                rule("method", '"POST"'),
                rule("path", '"echo"'),
                rule(
                    "body",
                    '{"regardingobjectid": trigger.body.PrimaryEntityId, '
                    '"otcs_node_id": steps.file.node_id}',
                ),
            ],
        },
    ]
    steps = [changes.get(step["key"], step) for step in steps]
    return {
        "trigger": {"type": "webhook", "connection": systems.hook.pk},
        "steps": [step for step in steps if step is not None],
    }


def contract_flow(systems: Systems, user: Any, **changes: Any) -> Flow:
    return services.create_flow(
        "File account contracts",
        contract_definition(systems, **changes),
        user,
        activate=True,
    )


def deliver(
    systems: Systems, flow: Flow, body: Any, *, secret: str = HOOK_SECRET
) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        f"{systems.url}/hooks/flows/{flow.hook_token}/",
        data=data,
        headers={"X-Webhook-Secret": secret, "Content-Type": "application/json"},
        timeout=30,
    )


def drain(rounds: int = 60) -> None:
    """Execute every run that can go on, in this process, ignoring waits."""
    for _ in range(rounds):
        past = (timezone.now() - timedelta(seconds=1)).isoformat()
        for waiting in FlowRun.objects.filter(
            status=RunStatus.WAITING, next_attempt_at__isnull=False
        ).exclude(context__waits=None):
            waits = dict.fromkeys(waiting.context.get("waits") or {}, past)
            if waits:  # a wait step is over at once
                context = {**waiting.context, "waits": waits}
                FlowRun.objects.filter(pk=waiting.pk).update(context=context)
        FlowRun.objects.filter(
            status__in=(RunStatus.RETRYING, RunStatus.WAITING),
            next_attempt_at__isnull=False,
        ).update(next_attempt_at=timezone.now())
        ready = list(
            FlowRun.objects.filter(
                status__in=(RunStatus.QUEUED, RunStatus.RETRYING)
            ).values_list("pk", flat=True)
        ) + list(
            FlowRun.objects.filter(
                status=RunStatus.WAITING, next_attempt_at__isnull=False
            ).values_list("pk", flat=True)
        )
        if not ready:
            return
        for run_id in ready:
            execute_run(run_id, worker="test")
    raise AssertionError("runs were still active after draining")


def wait_for(condition: Any, timeout: float = 60, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(
        f"not true within {timeout} s: {condition.__doc__ or condition}"
    )
