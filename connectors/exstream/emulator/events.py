"""Delivery events (delivered, bounced, viewed) posted to registered URLs.

SANDBOX ONLY, and the whole shape is [I]: Exstream's delivery channels
report back through their own products, and no public event API is known.

- ``POST _sandbox/callbacks`` ``{"url": ..., "secret": ...}`` registers a
  URL; ``GET`` lists them (without secrets), ``DELETE`` removes them all.
- ``POST _sandbox/deliveries`` ``{"event": "delivered", "communicationId":
  ..., "channel": "EMAIL", "recipient": ..., "jobId": ...}`` records an
  event and, once the transaction commits, posts it to every registered
  URL from a background thread (5-second timeout, one attempt, the outcome
  logged). ``POST _sandbox/deliveries/<eventId>/resend`` posts it again.

Each delivery is JSON ``{eventId, eventType, communicationId,
communicationName, channel, recipient, jobId, occurredAt}`` with headers
``X-Exstream-Event-Id``, ``X-Exstream-Timestamp`` (Unix seconds) and
``X-Exstream-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from connectors.errors import ConnectorError
from connectors.exstream.emulator.responses import ServerError, api, json_body
from connectors.exstream.sandbox.models import (
    ExstreamCallback,
    ExstreamCommunication,
    ExstreamDeliveryEvent,
)
from connectors.http import HttpClient

EVENTS = ("delivered", "bounced", "viewed")
CHANNELS = ("PDF", "PRINT", "EMAIL", "SMS", "PORTAL")
SEND_TIMEOUT = 5.0
SIGNATURE_HEADER = "X-Exstream-Signature"
TIMESTAMP_HEADER = "X-Exstream-Timestamp"
EVENT_ID_HEADER = "X-Exstream-Event-Id"
logger = logging.getLogger(__name__)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@api("GET", "POST", "DELETE", signed_in=False, faults=False)
def callbacks(request: HttpRequest) -> HttpResponse:
    """Register, list or remove the URLs events are posted to."""
    if request.method == "POST":
        values = json_body(request)
        url, secret = str(values.get("url") or ""), str(values.get("secret") or "")
        if not url.startswith(("http://", "https://")) or not secret:
            raise ServerError(400, "url (http or https) and secret are required.")
        ExstreamCallback.objects.create(url=url, secret=secret, created=timezone.now())
    elif request.method == "DELETE":
        ExstreamCallback.objects.all().delete()
    return JsonResponse(
        {"data": [{"id": c.id, "url": c.url} for c in ExstreamCallback.objects.all()]}
    )


@api("POST", signed_in=False, faults=False)
def deliveries(request: HttpRequest) -> HttpResponse:
    """Simulate one delivery event and post it to the registered URLs."""
    values = json_body(request)
    event = str(values.get("event") or "").lower()
    if event not in EVENTS:
        raise ServerError(400, "event must be delivered, bounced or viewed.")
    channel = str(values.get("channel") or "EMAIL").upper()
    if channel not in CHANNELS:
        raise ServerError(400, f"channel must be one of {', '.join(CHANNELS)}.")
    try:
        found = ExstreamCommunication.objects.filter(
            id=uuid.UUID(str(values.get("communicationId")))
        ).first()
    except ValueError:
        found = None
    if found is None:
        raise ServerError(404, "communicationId names no communication.")
    recipient = str(values.get("recipient") or "")
    if not recipient:
        raise ServerError(400, "recipient is required.")
    record = ExstreamDeliveryEvent.objects.create(
        event_id=uuid.uuid4(),
        event_type=event,
        communication_id=found.id,
        channel=channel,
        recipient=recipient,
        job_id=str(values.get("jobId") or ""),
        occurred_at=timezone.now(),
    )
    sent = _post_after_commit(record, found.name)
    return JsonResponse({"eventId": str(record.event_id), "callbacks": sent})


@api("POST", signed_in=False, faults=False)
def resend(request: HttpRequest, event_id: str) -> HttpResponse:
    """Post a recorded event again (a sender's retry, to test deduplication)."""
    try:
        record = ExstreamDeliveryEvent.objects.filter(
            event_id=uuid.UUID(event_id)
        ).first()
    except ValueError:
        record = None
    if record is None:
        raise ServerError(404, f"Event {event_id} not found.")
    found = ExstreamCommunication.objects.filter(id=record.communication_id).first()
    sent = _post_after_commit(record, found.name if found else "")
    return JsonResponse({"eventId": event_id, "callbacks": sent})


def payload(record: ExstreamDeliveryEvent, name: str) -> bytes:
    return json.dumps(
        {
            "eventId": str(record.event_id),
            "eventType": record.event_type,
            "communicationId": str(record.communication_id),
            "communicationName": name,
            "channel": record.channel,
            "recipient": record.recipient,
            "jobId": record.job_id or None,
            "occurredAt": record.occurred_at.isoformat(),
        }
    ).encode()


def _post_after_commit(record: ExstreamDeliveryEvent, name: str) -> int:
    body = payload(record, name)
    targets = [(c.url, c.secret) for c in ExstreamCallback.objects.order_by("id")]
    event_id = str(record.event_id)
    for url, secret in targets:
        # The thread gets plain values: it never touches the database.
        transaction.on_commit(
            lambda url=url, secret=secret: threading.Thread(
                target=_send,
                args=(url, secret, event_id, body),
                name="exstream-sandbox-event",
                daemon=True,
            ).start()
        )
    return len(targets)


def _send(url: str, secret: str, event_id: str, body: bytes) -> None:
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: event_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    try:
        with HttpClient(
            timeout=SEND_TIMEOUT, system_label="The callback receiver"
        ) as client:
            response = client.request(
                "POST", url, data=body, headers=headers, raise_errors=False
            )
            logger.info(
                "Exstream sandbox event %s: HTTP %s", event_id, response.status_code
            )
    except ConnectorError as error:
        logger.warning("Exstream sandbox event %s not delivered: %s", event_id, error)
