"""Delivery events posted by the emulator, received by the connector's trigger."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.base import InboundRequest
from connectors.errors import AuthError, PermanentError
from connectors.exstream.emulator.events import sign
from connectors.exstream.emulator.state import INVOICE_LETTER
from connectors.exstream.sandbox.models import ExstreamDeliveryEvent
from tests.connectors.exstream.conftest import (
    WEBHOOK_SECRET,
    control,
    make_connector,
)

pytestmark = [
    pytest.mark.urls("tests.connectors.exstream.urls"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue]]:
    """A local HTTP server that keeps every POST as an InboundRequest."""
    received: queue.Queue = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.put(
                InboundRequest(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    query={},
                    body=body,
                )
            )
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/1/", received
    server.shutdown()
    server.server_close()


def simulate(sandbox_url: str, event: str = "bounced") -> str:
    answer = control(
        sandbox_url,
        "POST",
        "_sandbox/deliveries",
        {
            "event": event,
            "communicationId": str(INVOICE_LETTER),
            "channel": "EMAIL",
            "recipient": "ada@example.com",
        },
    )
    return answer["eventId"]


@pytest.fixture
def registered(sandbox_url, receiver) -> queue.Queue:
    url, received = receiver
    control(
        sandbox_url,
        "POST",
        "_sandbox/callbacks",
        {"url": url, "secret": WEBHOOK_SECRET},
    )
    return received


def test_a_delivery_event_is_posted_signed_and_parsed(
    exstream, sandbox_url, registered
):
    # when
    event_id = simulate(sandbox_url, "bounced")
    inbound = registered.get(timeout=10)
    events = exstream.receive("receive", {}, inbound)

    # then
    record = ExstreamDeliveryEvent.objects.get()
    assert len(events) == 1
    assert events[0].event_id == f"exstream:{event_id}"
    payload = events[0].payload
    occurred = datetime.fromisoformat(payload.pop("occurred_at").replace("Z", "+00:00"))
    assert occurred == record.occurred_at
    assert payload == {
        "event": "bounced",
        "communication": str(INVOICE_LETTER),
        "channel": "EMAIL",
        "recipient": "ada@example.com",
    }
    assert events[0].occurred_at == record.occurred_at


def test_a_repeated_delivery_keeps_its_event_id(exstream, sandbox_url, registered):
    # given
    event_id = simulate(sandbox_url, "viewed")
    first = exstream.receive("receive", {}, registered.get(timeout=10))

    # when
    control(sandbox_url, "POST", f"_sandbox/deliveries/{event_id}/resend")
    again = exstream.receive("receive", {}, registered.get(timeout=10))

    # then
    assert again[0].event_id == first[0].event_id == f"exstream:{event_id}"
    assert again[0].payload["event"] == "viewed"


def test_a_connection_with_another_secret_refuses_the_event(sandbox_url, registered):
    # given
    simulate(sandbox_url)
    inbound = registered.get(timeout=10)
    other = make_connector(sandbox_url, webhook_secret="another-secret")

    # when
    with pytest.raises(AuthError) as raised:
        other.receive("receive", {}, inbound)

    # then
    assert raised.value.message == (
        "The signature of the delivery event does not match: the sender does "
        "not know this connection's secret."
    )


def signed(body: dict, timestamp: int, secret: str = WEBHOOK_SECRET) -> InboundRequest:
    raw = json.dumps(body).encode()
    return InboundRequest(
        method="POST",
        path="/hooks/1/",
        headers={
            "content-type": "application/json",
            "x-exstream-timestamp": str(timestamp),
            "x-exstream-signature": sign(secret, str(timestamp), raw),
        },
        query={},
        body=raw,
    )


EVENT = {
    "eventId": "e-1",
    "eventType": "delivered",
    "communicationId": str(INVOICE_LETTER),
    "channel": "SMS",
    "recipient": "+4912345",
    "occurredAt": "2024-05-01T10:00:00+00:00",
}


def test_an_event_older_than_five_minutes_is_refused(exstream):
    # when
    with pytest.raises(AuthError) as raised:
        exstream.receive("receive", {}, signed(EVENT, int(time.time()) - 301))

    # then
    assert raised.value.message == (
        "The delivery event is dated more than 5 minutes away from now: it may "
        "be a replay, or the sender's clock is wrong."
    )


def test_an_unsigned_event_is_refused(exstream):
    # given
    inbound = signed(EVENT, int(time.time()))
    unsigned = InboundRequest("POST", "/hooks/1/", {}, {}, inbound.body)

    # when / then
    with pytest.raises(AuthError):
        exstream.receive("receive", {}, unsigned)


def test_an_unknown_event_type_is_a_permanent_error(exstream):
    # when
    with pytest.raises(PermanentError) as raised:
        exstream.receive(
            "receive", {}, signed({**EVENT, "eventType": "opened"}, int(time.time()))
        )

    # then
    assert raised.value.message.startswith("The delivery event is not valid: event:")
    assert not isinstance(raised.value, AuthError)


def test_a_signed_event_is_parsed_with_its_own_time(exstream):
    # when
    events = exstream.receive("receive", {}, signed(EVENT, int(time.time())))

    # then
    assert events[0].event_id == "exstream:e-1"
    assert events[0].payload == {
        "event": "delivered",
        "communication": str(INVOICE_LETTER),
        "channel": "SMS",
        "recipient": "+4912345",
        "occurred_at": "2024-05-01T10:00:00Z",
    }
