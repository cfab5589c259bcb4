"""The living demo: while ``make run`` runs, the emulated systems keep
producing work, one event every couple of minutes, taking turns:

1. a customer's city changes in Dynamics 365 (the metadata-sync flows see
   it at their next poll);
2. the demo retailer's carrier reports a delay on an order through Trading
   Grid (the shipment-issue flow files it and asks a reviewer);
3. Exstream reports a letter delivered, viewed or bounced (the
   delivery-feedback flow notes it on the account; a bounce opens a task);
4. the billing system posts a new statement, signed as Standard Webhooks
   (the communications-archive flow renders and archives it).

Each event goes the way the real one would: over HTTP to the emulator or
to the flow's own webhook address, never by writing runs. Every tick also
checks connections not checked for a while, so the dashboard shows their
health. Demo only: ``seed_demo`` creates the beat entry.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from connectors import services as connection_services
from connectors.models import Connection

logger = logging.getLogger(__name__)

TASK_NAME = "Demo: the emulated systems at work"
EVERY_SECONDS = 120
RECHECK = timedelta(minutes=30)
CITIES = ["Redmond", "Bellevue", "Tacoma", "Spokane", "Seattle"]
EVENTS = ("delivered", "viewed", "delivered", "bounced")
TIMEOUT = 10


def tick(number: int | None = None) -> str:
    """Produce the next demo event; ``number`` picks it (else the beat
    entry's run count). Returns what happened, for the log."""
    _check_connections()
    if number is None:
        number = _ticks()
    base = (settings.XCONNECTOR_BASE_URL or "").rstrip("/")
    happened = EVENT_MAKERS[number % len(EVENT_MAKERS)](number, base)
    logger.info("demo tick %s: %s", number, happened)
    return happened


def _ticks() -> int:
    from django_celery_beat.models import PeriodicTask

    entry = PeriodicTask.objects.filter(name=TASK_NAME).first()
    return entry.total_run_count if entry else 0


def _check_connections() -> None:
    stale = Connection.objects.filter(
        Q(last_checked_at__isnull=True)
        | Q(last_checked_at__lt=timezone.now() - RECHECK)
    )
    for connection in stale:
        connection_services.check_connection(connection)


def _city_changes(number: int, base: str) -> str:
    from connectors.dynamics.emulator import state

    state.ensure_seed()
    record_id, name, _, _ = state.DEMO_ACCOUNTS[number % len(state.DEMO_ACCOUNTS)]
    row = state.find("accounts", record_id)
    if row is None:
        return f"{name} is not in Dynamics 365 any more"
    city = CITIES[number % len(CITIES)]
    state.update(row, {"address1_city": city})
    return f"{name} moved to {city} in Dynamics 365"


def _shipment_delay(number: int, base: str) -> str:
    if not base:
        return "no base URL: the carrier's report was not sent"
    shipment = f"SH-{800 + number}"
    content = (
        f"ST*214*0001~B10*{shipment}*{shipment}*DEMO~L11*SO-1001*PO~"
        "AT7*SD*AO***20261202*1200~SE*5*0001~"
    )
    answer = requests.post(
        f"{base}/sandbox/tradinggrid/_sandbox/partner-documents",
        json={"from": "ZZ:DEMORETAILER", "content": content},
        timeout=TIMEOUT,
    )
    return f"the carrier reported {shipment} delayed ({answer.status_code})"


def _delivery(number: int, base: str) -> str:
    from connectors.exstream.emulator.state import WELCOME_LETTER

    if not base:
        return "no base URL: the delivery event was not sent"
    event = EVENTS[(number // len(EVENT_MAKERS)) % len(EVENTS)]
    answer = requests.post(
        f"{base}/sandbox/exstream/_sandbox/deliveries",
        json={
            "event": event,
            "communicationId": str(WELCOME_LETTER),
            "channel": "EMAIL",
            "recipient": "info@contoso.example.com",
        },
        timeout=TIMEOUT,
    )
    return f"Exstream reported a welcome letter {event} ({answer.status_code})"


def _statement(number: int, base: str) -> str:
    from standardwebhooks.webhooks import Webhook

    from integrations.models import Flow

    flow = (
        Flow.objects.select_related("published_version")
        .filter(template_key="exstream-archive")
        .first()
    )
    if not base or flow is None or flow.published_version is None:
        return "no communications-archive flow to post a statement to"
    connection_id = flow.published_version.definition["trigger"].get("connection")
    connection = Connection.objects.filter(pk=connection_id).first()
    secret = (connection.secrets() if connection else {}).get("secret", "")
    if not secret.startswith("whsec_"):
        return "the billing webhook has no Standard Webhooks secret"
    statement = f"ST-2026-12-{1000 + number}"
    body = json.dumps(
        {
            "customer": {"number": "C-1001", "name": "Contoso Ltd"},
            "statement": {
                "number": statement,
                "amount": f"{100 + number * 7 % 900}.00",
                "currency": "EUR",
                "due": (timezone.localdate() + timedelta(days=30)).isoformat(),
            },
            "channel": "EMAIL",
            "variant": {
                "segment": "Business",
                "product": "Fleet",
                "jurisdiction": "DE",
                "language": "de",
            },
        }
    )
    message_id, moment = f"msg_demo_{statement}", timezone.now()
    signature = Webhook(secret).sign(message_id, moment, body)
    answer = requests.post(
        f"{base}/hooks/flows/{flow.hook_token}/",
        data=body.encode(),
        headers={
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": signature,
        },
        timeout=TIMEOUT,
    )
    return f"billing posted statement {statement} ({answer.status_code})"


EVENT_MAKERS: list[Any] = [_city_changes, _shipment_delay, _delivery, _statement]


def schedule() -> None:
    """The beat entry that calls ``tick`` every couple of minutes (demo)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(
        every=EVERY_SECONDS, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "integrations.tasks.demo_tick",
            "interval": every,
            "enabled": True,
            "queue": "housekeeping",
        },
    )
