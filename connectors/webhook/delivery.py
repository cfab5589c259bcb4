"""Accepting webhook deliveries: authenticate, keep each event once, answer.

``accept_delivery`` is the one way in for an inbound webhook. It asks the
connection's connector to authenticate and parse the request, then stores an
``InboundDelivery`` per event: the first delivery of an event id is
accepted, a repeat only counts on that first row (``repeats``) and is
reported as a duplicate. A delivery that fails authentication or parsing is
stored as rejected with its reason and without its body.

The partial unique constraint ``delivery_event_once`` is what keeps an
event once when two deliveries race: the insert runs in a savepoint, and
the loser's ``IntegrityError`` turns into a counted repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone
from pydantic import ValidationError

from connectors.base import InboundRequest, TriggerEvent, describe_errors
from connectors.crypto import SecretsUnreadable
from connectors.errors import AuthError, ConnectorError, TransientError
from connectors.models import Connection, DeliveryStatus, InboundDelivery

logger = logging.getLogger(__name__)

TRIGGER = "receive"

# Sent with ``connection`` and ``event`` for each newly accepted event, inside
# the transaction that stores its delivery: receivers (the flow engine)
# start runs that commit, or roll back, together with the delivery.
event_accepted = Signal()
MAX_REASON = 500  # InboundDelivery.reason

Status = Literal["accepted", "duplicate", "rejected", "ignored"]
OnAccepted = Callable[[InboundDelivery, TriggerEvent], Any]


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one delivery, and the HTTP answer the sender gets.

    ``accepted`` 202 (new event stored), ``duplicate`` 200 (a repeat,
    dropped), ``rejected`` 401 (authentication) / 400 (malformed) / 503
    (this side cannot process it now), ``ignored`` 202 (the connector found
    no event in it).
    """

    status: Status
    http_status: int
    event_id: str = ""
    reason: str = ""
    delivery: InboundDelivery | None = None

    def as_json(self) -> dict[str, str]:
        if self.status == "rejected":
            return {"error": self.reason}
        return {"status": self.status, "event_id": self.event_id}


def accept_delivery(
    connection: Connection,
    request: InboundRequest,
    *,
    on_accepted: OnAccepted | None = None,
) -> DeliveryOutcome:
    """Authenticate, parse and store one delivery for ``connection``.

    ``on_accepted(delivery, event)`` runs for each new event inside the
    transaction that stores it (to queue a run atomically with the
    delivery); if it raises, nothing is stored and the error propagates.
    """
    try:
        connector = connection.connector()
    except (ConnectorError, SecretsUnreadable) as error:
        return _reject(connection, _unusable(str(error)), 503)
    except ValidationError as error:
        return _reject(connection, _unusable(describe_errors(error)), 503)
    try:
        events = connector.receive(TRIGGER, {}, request)
    except AuthError as error:
        return _reject(connection, error.message, 401)
    except TransientError as error:
        return _reject(connection, error.message, 503)
    except ConnectorError as error:
        return _reject(connection, error.message, 400)
    if not events:
        logger.info("webhook delivery for connection %s had no event", connection.pk)
        return DeliveryOutcome("ignored", 202)
    outcomes = [_keep_once(connection, event, on_accepted) for event in events]
    first = next((o for o in outcomes if o.status == "accepted"), outcomes[0])
    return first


KEEP_REJECTED = 100  # per connection


def record_rejection(connection: Connection, reason: str) -> InboundDelivery:
    """Keep a rejected delivery's reason (never its body) for the admin."""
    logger.warning(
        "webhook delivery for connection %s rejected: %s", connection.pk, reason
    )
    delivery = InboundDelivery.objects.create(
        connection=connection,
        status=DeliveryStatus.REJECTED,
        reason=_clip(reason),
    )
    # Anyone may post to a hook address: keep the newest rejections only, so
    # a flood of forged deliveries cannot fill the database.
    stale = (
        InboundDelivery.objects.filter(
            connection=connection, status=DeliveryStatus.REJECTED
        )
        .order_by("-received_at", "-pk")
        .values_list("pk", flat=True)[KEEP_REJECTED:]
    )
    InboundDelivery.objects.filter(pk__in=list(stale)).delete()
    return delivery


def _keep_once(
    connection: Connection, event: TriggerEvent, on_accepted: OnAccepted | None
) -> DeliveryOutcome:
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: the outer one survives
                delivery = InboundDelivery.objects.create(
                    connection=connection,
                    event_id=event.event_id,
                    status=DeliveryStatus.ACCEPTED,
                    payload=event.payload,
                )
        except IntegrityError:
            first = _count_repeat(connection, event.event_id)
            if first is None:
                raise  # not a repeat: some other integrity problem
            logger.info(
                "webhook delivery for connection %s repeats event %s",
                connection.pk,
                event.event_id,
            )
            return DeliveryOutcome("duplicate", 200, event.event_id, delivery=first)
        event_accepted.send(sender=InboundDelivery, connection=connection, event=event)
        if on_accepted is not None:
            on_accepted(delivery, event)
    logger.info(
        "webhook delivery for connection %s accepted as event %s",
        connection.pk,
        event.event_id,
    )
    return DeliveryOutcome("accepted", 202, event.event_id, delivery=delivery)


def _count_repeat(connection: Connection, event_id: str) -> InboundDelivery | None:
    accepted = InboundDelivery.objects.filter(
        connection=connection, event_id=event_id, status=DeliveryStatus.ACCEPTED
    )
    # One conditional UPDATE: concurrent repeats each add one, none is lost.
    if not accepted.update(repeats=F("repeats") + 1, last_repeat_at=timezone.now()):
        return None
    return accepted.get()


def _reject(connection: Connection, reason: str, http_status: int) -> DeliveryOutcome:
    delivery = record_rejection(connection, reason)
    return DeliveryOutcome(
        "rejected", http_status, reason=delivery.reason, delivery=delivery
    )


def _unusable(why: str) -> str:
    return f"This webhook's connection cannot be used: {why}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
