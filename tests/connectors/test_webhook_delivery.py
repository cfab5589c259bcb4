"""Webhook deliveries are kept once: accepted, counted as repeats, or rejected."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading

import orjson
import pytest
from django.db import connection as db_connection
from django.test import RequestFactory

from connectors import crypto
from connectors.base import InboundRequest
from connectors.models import Connection, DeliveryStatus, InboundDelivery
from connectors.webhook.delivery import accept_delivery
from connectors.webhook.views import MAX_BODY_BYTES, receive_hook

SECRET = "gh-webhook-s3cret-Q7"
BODY = b'{"action": "opened", "number": 7}'
DELIVERY_ID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def make_connection(name: str = "GitHub", **settings: object) -> Connection:
    return Connection.objects.create(
        connector_key="webhook",
        name=name,
        settings={
            "verification": "github",
            "event_id_source": "X-GitHub-Delivery",
            **settings,
        },
        secrets_encrypted=crypto.encrypt({"secret": SECRET}),
    )


def signed(body: bytes = BODY, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def inbound(
    body: bytes = BODY, signature: str | None = None, delivery: str = DELIVERY_ID
) -> InboundRequest:
    return InboundRequest(
        method="POST",
        path="/hooks/1/",
        headers={
            "content-type": "application/json",
            "x-github-event": "pull_request",
            "x-github-delivery": delivery,
            "x-hub-signature-256": signature or signed(body),
        },
        query={},
        body=body,
    )


@pytest.mark.django_db
def test_a_signed_delivery_is_accepted_and_stored_with_its_payload():
    hook = make_connection()

    outcome = accept_delivery(hook, inbound())

    assert (outcome.status, outcome.http_status, outcome.event_id) == (
        "accepted",
        202,
        DELIVERY_ID,
    )
    assert outcome.as_json() == {"status": "accepted", "event_id": DELIVERY_ID}
    delivery = InboundDelivery.objects.get()
    assert delivery == outcome.delivery
    assert delivery.status == DeliveryStatus.ACCEPTED
    assert delivery.event_id == DELIVERY_ID
    assert delivery.payload == {
        "body": {"action": "opened", "number": 7},
        "headers": {
            "content-type": "application/json",
            "x-github-delivery": DELIVERY_ID,
            "x-github-event": "pull_request",
        },
        "query": {},
    }
    assert (delivery.repeats, delivery.last_repeat_at) == (0, None)


@pytest.mark.django_db
def test_a_repeated_event_is_dropped_and_counted_on_the_first_delivery():
    hook = make_connection()
    first = accept_delivery(hook, inbound())

    again = accept_delivery(hook, inbound())

    assert (again.status, again.http_status, again.event_id) == (
        "duplicate",
        200,
        DELIVERY_ID,
    )
    assert again.as_json() == {"status": "duplicate", "event_id": DELIVERY_ID}
    delivery = InboundDelivery.objects.get()
    assert delivery.pk == first.delivery.pk
    assert delivery.repeats == 1
    assert delivery.last_repeat_at is not None


@pytest.mark.django_db
def test_the_same_event_id_on_another_connection_is_a_new_event():
    accept_delivery(make_connection("GitHub A"), inbound())

    outcome = accept_delivery(make_connection("GitHub B"), inbound())

    assert outcome.status == "accepted"
    assert InboundDelivery.objects.filter(event_id=DELIVERY_ID).count() == 2


@pytest.mark.django_db
def test_a_wrong_signature_is_rejected_with_401_and_no_payload():
    hook = make_connection()

    outcome = accept_delivery(hook, inbound(signature=signed(secret="guess")))

    reason = (
        "The signature does not match: the sender does not know this webhook's secret."
    )
    assert (outcome.status, outcome.http_status) == ("rejected", 401)
    assert outcome.as_json() == {"error": reason}
    delivery = InboundDelivery.objects.get()
    assert delivery.status == DeliveryStatus.REJECTED
    assert (delivery.reason, delivery.payload, delivery.event_id) == (reason, None, "")


@pytest.mark.django_db
def test_malformed_json_is_rejected_with_400_and_the_reason_kept():
    hook = make_connection()
    body = b'{"action": "opened",'

    outcome = accept_delivery(hook, inbound(body=body))

    reason = "The body is not valid JSON: unexpected end of data (line 1, column 21)."
    assert (outcome.status, outcome.http_status, outcome.reason) == (
        "rejected",
        400,
        reason,
    )
    delivery = InboundDelivery.objects.get()
    assert (delivery.status, delivery.reason, delivery.payload) == (
        DeliveryStatus.REJECTED,
        reason,
        None,
    )


@pytest.mark.django_db
def test_a_rejected_delivery_does_not_block_the_real_one():
    hook = make_connection()
    accept_delivery(hook, inbound(signature=signed(secret="guess")))

    outcome = accept_delivery(hook, inbound())

    assert outcome.status == "accepted"
    assert sorted(InboundDelivery.objects.values_list("status", flat=True)) == [
        "accepted",
        "rejected",
    ]


@pytest.mark.django_db
def test_a_connection_without_its_secret_rejects_with_503():
    hook = make_connection()
    hook.secrets_encrypted = ""
    hook.save()

    outcome = accept_delivery(hook, inbound())

    assert (outcome.status, outcome.http_status) == ("rejected", 503)
    assert outcome.reason == (
        "This webhook's connection cannot be used: secret: “GitHub signature "
        "(X-Hub-Signature-256)” needs a secret: enter the secret shared with "
        "the sender."
    )


@pytest.mark.django_db
def test_secrets_never_reach_payloads_reasons_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    hook = make_connection(
        "Shared", verification="shared_secret_query", event_id_source=""
    )
    good = InboundRequest(
        method="POST",
        path="/hooks/1/",
        headers={"content-type": "application/json", "authorization": SECRET},
        query={"token": SECRET, "tenant": "emea"},
        body=BODY,
    )
    wrong = InboundRequest(
        method="POST",
        path="/hooks/1/",
        headers={"content-type": "application/json"},
        query={"token": SECRET[:-1]},
        body=BODY,
    )

    accepted = accept_delivery(hook, good)
    rejected = accept_delivery(hook, wrong)

    assert (accepted.status, rejected.status) == ("accepted", "rejected")
    stored = list(InboundDelivery.objects.values_list("payload", "reason"))
    assert len(stored) == 2
    for text in (str(stored), caplog.text, str(rejected.as_json())):
        assert SECRET not in text
        assert SECRET[:-1] not in text
    assert InboundDelivery.objects.get(status="accepted").payload["query"] == {
        "tenant": "emea"
    }


@pytest.mark.django_db
def test_on_accepted_runs_for_new_events_only_and_its_failure_stores_nothing():
    hook = make_connection()
    seen: list[str] = []

    accept_delivery(hook, inbound(), on_accepted=lambda d, e: seen.append(e.event_id))
    accept_delivery(hook, inbound(), on_accepted=lambda d, e: seen.append(e.event_id))

    def fail(delivery: InboundDelivery, event: object) -> None:
        raise RuntimeError("queue down")

    with pytest.raises(RuntimeError):
        accept_delivery(hook, inbound(delivery="other-id"), on_accepted=fail)

    assert seen == [DELIVERY_ID]
    assert list(InboundDelivery.objects.values_list("event_id", flat=True)) == [
        DELIVERY_ID
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_keep_one_accepted_delivery():
    hook = make_connection()
    senders = 4
    start = threading.Barrier(senders)
    statuses: list[str] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            start.wait()
            statuses.append(accept_delivery(hook, inbound()).status)
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(statuses) == ["accepted", "duplicate", "duplicate", "duplicate"]
    delivery = InboundDelivery.objects.get()
    assert delivery.repeats == 3


# --- The view ------------------------------------------------------------------


def post(
    hook: Connection, body: bytes = BODY, **headers: str
) -> tuple[int, dict[str, str]]:
    request = RequestFactory().post(
        f"/hooks/{hook.pk}/",
        data=body,
        content_type="application/json",
        headers={
            "X-GitHub-Delivery": DELIVERY_ID,
            "X-Hub-Signature-256": signed(body),
            **headers,
        },
    )
    response = receive_hook(request, hook.pk)
    return response.status_code, orjson.loads(response.content)


@pytest.mark.django_db
def test_the_view_answers_accepted_then_duplicate():
    hook = make_connection()

    assert post(hook) == (202, {"status": "accepted", "event_id": DELIVERY_ID})
    assert post(hook) == (200, {"status": "duplicate", "event_id": DELIVERY_ID})


@pytest.mark.django_db
def test_the_view_answers_401_for_a_bad_signature():
    hook = make_connection()

    status, answer = post(hook, **{"X-Hub-Signature-256": signed(secret="x")})

    assert (status, answer) == (
        401,
        {
            "error": "The signature does not match: the sender does not know "
            "this webhook's secret."
        },
    )


@pytest.mark.django_db
def test_the_view_refuses_a_body_over_1_mb_with_413():
    hook = make_connection()
    body = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'

    status, answer = post(hook, body=body)

    reason = "The body is larger than the 1 MB a webhook may carry."
    assert (status, answer) == (413, {"error": reason})
    assert InboundDelivery.objects.get().reason == reason


@pytest.mark.django_db
def test_the_view_takes_post_only_and_knows_only_webhook_connections():
    hook = make_connection()
    other = Connection.objects.create(connector_key="files", name="Drop")

    response = receive_hook(RequestFactory().get(f"/hooks/{hook.pk}/"), hook.pk)
    assert (response.status_code, response["Allow"]) == (405, "POST")
    assert post(other)[0] == 404
    assert receive_hook(RequestFactory().post("/hooks/999/"), 999).status_code == 404
    assert InboundDelivery.objects.count() == 0


@pytest.mark.django_db
def test_only_the_newest_rejections_are_kept(monkeypatch):
    from connectors.webhook import delivery as deliveries

    monkeypatch.setattr(deliveries, "KEEP_REJECTED", 3)
    connection = make_connection()

    for n in range(5):
        deliveries.record_rejection(connection, f"forged #{n}")

    kept = InboundDelivery.objects.filter(status=DeliveryStatus.REJECTED)
    assert sorted(kept.values_list("reason", flat=True)) == [
        "forged #2",
        "forged #3",
        "forged #4",
    ]
