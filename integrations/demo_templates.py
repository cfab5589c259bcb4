"""Every flow template at work in the demo: one flow per template on the
demo connections, and one run of each queued once, so that ``make run``
shows each use case of USE_CASES.md against the emulators.

Demo only (``manage.py seed_demo``). What a run needs in an emulated system
before it starts (an opportunity in Dynamics 365, an approved text block or
contract in Content Server, a carrier's shipment status on Trading Grid) is
put into that emulator's own state here, the way its users would have made
it; the runs themselves are real: the worker runs them over HTTP once the
server is up. Flows started by their own trigger (a poll, a delivery event,
a complete workspace) get no seeded run: beat, the emulators and the
reviewers start them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from connectors.demo import EXSTREAM_EVENTS_SECRET, PRINT_PROVIDER, SMS_GATEWAY
from connectors.models import Connection
from integrations import demo_events, flow_templates, services
from integrations.flow_templates import FlowTemplate
from integrations.models import Flow

# A slot that needs its own demo connection, not the connector's first one.
SLOT_CONNECTIONS = {"print": PRINT_PROVIDER, "sms": SMS_GATEWAY}
DEMO_OPPORTUNITY = "bbbbbbbb-0000-4000-8000-000000000001"
DEMO_ORDER = "cccccccc-0000-4000-8000-000000000001"
SHIPMENT_214 = (
    "ST*214*0001~B10*SH-778*SH-778*DEMO~L11*SO-1001*PO~"
    "AT7*SD*AO***20261202*1200~SE*5*0001~"
)


def _sample(key: str) -> Callable[[], dict[str, Any]]:
    return lambda: flow_templates.get(key).sample


def _opportunity() -> None:
    from connectors.dynamics.emulator import state

    state.ensure_seed()
    if state.find("opportunities", DEMO_OPPORTUNITY) is None:
        state.create(
            "opportunities",
            DEMO_OPPORTUNITY,
            {"name": "Contoso fleet renewal", "estimatedvalue": 120000},
        )


def _new_account() -> dict[str, Any]:
    """Dynamics 365 reports a new account (one the demo's other flows do
    not know, so that its workspace is this flow's own)."""
    litware = "aaaaaaaa-0000-4000-8000-000000000004"
    target = {
        "LogicalName": "account",
        "Id": litware,
        "Attributes": [{"key": "name", "value": "Litware Inc"}],
    }
    return {
        "body": {
            "MessageId": "demo-new-account",
            "MessageName": "Create",
            "PrimaryEntityName": "account",
            "PrimaryEntityId": litware,
            "InputParameters": [{"key": "Target", "value": target}],
        }
    }


def _deal() -> dict[str, Any]:
    _opportunity()
    return {
        "opportunity": DEMO_OPPORTUNITY,
        "discount": 15,
        "justification": "Three-year commitment on the whole fleet",
    }


def _proposal() -> dict[str, Any]:
    _opportunity()
    target = {
        "LogicalName": "opportunity",
        "Id": DEMO_OPPORTUNITY,
        "Attributes": [{"key": "stepname", "value": "3-Propose"}],
    }
    return {
        "body": {
            "MessageId": "demo-proposal",
            "MessageName": "Update",
            "PrimaryEntityName": "opportunity",
            "PrimaryEntityId": DEMO_OPPORTUNITY,
            "InputParameters": [{"key": "Target", "value": target}],
        }
    }


def _order_documents() -> dict[str, Any]:
    from connectors.dynamics.emulator import state

    state.ensure_seed()
    if state.find("salesorders", DEMO_ORDER) is None:
        state.create(
            "salesorders", DEMO_ORDER, {"name": "SO-1001", "ordernumber": "SO-1001"}
        )
    body = flow_templates.get("transaction-docs").sample["body"]
    return {"body": {**body, "order": {"number": "SO-1001", "id": DEMO_ORDER}}}


def _ecm_document(
    folder: str, name: str, content: bytes, mime: str, categories: dict[str, Any]
) -> int:
    """A document in the emulated Content Server, as someone filed it."""
    from connectors.otcs.emulator import state
    from connectors.sandbox.models import (
        OtcsCategory,
        OtcsCategoryValue,
        OtcsNode,
        OtcsVersion,
    )

    state.ensure_seed()
    root = OtcsNode.objects.get(id=state.ENTERPRISE_WORKSPACE)
    parent = OtcsNode.objects.filter(parent=root, name=folder).first()
    if parent is None:
        parent = state.create_node(root, 0, folder, state.ADMIN_ID)
    found = OtcsNode.objects.filter(parent=parent, name=name).first()
    if found is not None:
        return found.id
    blob, size = state.store_blob(io.BytesIO(content))
    node = state.create_node(
        parent, 144, name, state.ADMIN_ID, mime_type=mime, size=size
    )
    OtcsVersion.objects.create(
        node=node,
        number=1,
        major=1,
        minor=0,
        file_name=name,
        blob=blob,
        size=size,
        mime_type=mime,
        create_date=timezone.now(),
        owner_id=state.ADMIN_ID,
    )
    for category_id in {int(key.split("_")[0]) for key in categories}:
        values = {
            k: v for k, v in categories.items() if k.startswith(f"{category_id}_")
        }
        OtcsCategoryValue.objects.create(
            node=node, category=OtcsCategory.objects.get(id=category_id), values=values
        )
    return node.id


def _content_block() -> dict[str, Any]:
    text = "Kind regards,\nAcme Claims. You may appeal within 30 days."
    node = _ecm_document(
        "Approved content",
        "case-decision-closing.txt",
        text.encode(),
        "text/plain",
        {"9834_2": "Case decision", "9834_3": "closing", "9834_4": text},
    )
    return {"body": {"MessageId": "demo-content", "node_id": node}}


def _approved_contract() -> dict[str, Any]:
    from connectors.tradinggrid.emulator.partners import one_page_pdf

    pdf = one_page_pdf(
        "Supply contract C-2026-7 between Demo Supplier and Demo Distributor"
    )
    node = _ecm_document(
        "Partner contracts", "contract-C-2026-7.pdf", pdf, "application/pdf", {}
    )
    contract = {
        "number": "C-2026-7",
        "node_id": node,
        "version": 1,
        "partner": "ZZZ:DEMODIST",
    }
    return {"body": {"MessageId": "demo-contract", "contract": contract}}


def _onboarding() -> dict[str, Any]:
    return {
        "supplier": "V-1001",
        "name": "Fabrikam Supplies",
        "partner": "ZZZ:DEMODIST",
        "document_type": "bank_details",
    }


# The payload of each template's demo run (None: its trigger starts it).
DEMO_RUNS: dict[str, Callable[[], dict[str, Any]] | None] = {
    "capture-to-ecm": _sample("capture-to-ecm"),
    "exstream-archive": _sample("exstream-archive"),
    "workspace-on-create": _new_account,
    "contract-sync": _proposal,
    "metadata-sync": None,  # polls Dynamics 365 every minute
    "evidence-checklist": None,  # when a supplier's checklist is complete
    "transaction-docs": _order_documents,
    "document-access": None,  # asked for from Dynamics 365
    "event-to-communication": _sample("event-to-communication"),
    "case-correspondence": _sample("case-correspondence"),
    "communication-approval": _sample("communication-approval"),
    "channel-routing": _sample("channel-routing"),
    "delivery-feedback": None,  # Exstream posts its delivery events
    "governed-content": _content_block,
    "partner-case": _sample("partner-case"),
    "po-exception": _sample("po-exception"),
    "partner-contract": _approved_contract,
    "shipment-issue": None,  # polls the Trading Grid mailbox
    "supplier-onboarding": _onboarding,
    "quality-incident": _sample("quality-incident"),
    "order-reconciliation": _sample("order-reconciliation"),
    "deal-approval": _deal,
}


def connections_for(
    template: FlowTemplate, connections: list[Connection]
) -> dict[str, Connection | None]:
    """The demo connection of each slot: the one named for the slot, else
    the demo's connection of the slot's connector."""
    by_name = {c.name: c for c in connections}
    by_key: dict[str, Connection] = {}
    for connection in connections:
        if connection.name not in SLOT_CONNECTIONS.values():
            by_key.setdefault(connection.connector_key, connection)
    chosen = {}
    for slot in template.slots:
        named = by_name.get(SLOT_CONNECTIONS.get(slot.key, ""))
        if named is not None and named.connector_key == slot.connector:
            chosen[slot.key] = named
        else:
            chosen[slot.key] = by_key.get(slot.connector)
    return chosen


@transaction.atomic
def seed_template_flows(connections: list[Connection], base_url: str) -> list[Flow]:
    """One active flow per template (found again by its template key) and
    its demo run, queued once; a template whose connections the demo lacks
    is skipped."""
    admin = get_user_model().objects.get(username="admin")
    flows = []
    for template in flow_templates.all_templates():
        flow = Flow.objects.filter(template_key=template.key).first()
        if flow is None:
            chosen = connections_for(template, connections)
            if None in chosen.values():
                continue
            flow = flow_templates.instantiate(template.key, chosen, admin)
        make = DEMO_RUNS.get(template.key)
        if make is not None:
            services.start_run(
                flow, make(), admin, idempotency_key=f"demo-template-{template.key}"
            )
        flows.append(flow)
    _listen_to_exstream(base_url)
    _carrier_reports_a_delay()
    demo_events.schedule()
    return flows


def _listen_to_exstream(base_url: str) -> None:
    """Exstream's delivery events go to the delivery-feedback flow."""
    from connectors.exstream.sandbox.models import ExstreamCallback

    flow = Flow.objects.filter(template_key="delivery-feedback").first()
    if flow is None:
        return
    url = f"{base_url.rstrip('/')}/hooks/flows/{flow.hook_token}/"
    ExstreamCallback.objects.exclude(url=url).filter(url__contains="/hooks/").delete()
    ExstreamCallback.objects.get_or_create(
        url=url,
        defaults={"secret": EXSTREAM_EVENTS_SECRET, "created": timezone.now()},
    )


def _carrier_reports_a_delay() -> None:
    """The demo retailer's carrier reports a delay on SO-1001 (once)."""
    from connectors.tradinggrid import edi
    from connectors.tradinggrid.emulator import network
    from connectors.tradinggrid.emulator.state import RETAILER, SUPPLIER
    from connectors.tradinggrid.sandbox.models import TgTransaction

    if TgTransaction.objects.filter(doc_type="214").exists():
        return
    transactions = edi.segments_from_text(SHIPMENT_214, edi.X12)
    control = edi.control_number("demo-214-SH-778")
    payload = edi.build_x12(RETAILER.address, SUPPLIER.address, control, transactions)
    network.reply(RETAILER.id, SUPPLIER.id, payload, "")
