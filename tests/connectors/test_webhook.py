"""The webhook connector authenticates, parses and identifies one delivery."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook

from connectors.base import InboundRequest
from connectors.errors import AuthError, PermanentError
from connectors.webhook.connector import MODE_LABELS, WebhookConnector

SHARED = "s3cret-shared-Value"
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"id": "evt_1", "data": {"invoice": 42}}'
MISMATCH = (
    "The signature does not match: the sender does not know this webhook's secret."
)


def connector(**settings: object) -> WebhookConnector:
    return WebhookConnector(WebhookConnector.Config.model_validate(settings))


def inbound(
    body: bytes = BODY,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> InboundRequest:
    return InboundRequest(
        method="POST",
        path="/hooks/1/",
        headers={"content-type": "application/json", **(headers or {})},
        query=query or {},
        body=body,
    )


def github_signature(body: bytes, secret: str = SHARED) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_headers(
    body: bytes = BODY, secret: str = WHSEC, sent: datetime | None = None
) -> dict[str, str]:
    sent = sent or datetime.now(UTC)
    signature = Webhook(secret).sign("msg_2Lh9", sent, body.decode())
    return {
        "webhook-id": "msg_2Lh9",
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": signature,
    }


def receive(hook: WebhookConnector, request: InboundRequest) -> list:
    return hook.receive("receive", {}, request)


# --- No verification ----------------------------------------------------------


def test_without_verification_a_json_delivery_becomes_one_event():
    hook = connector(verification="none")

    [event] = receive(hook, inbound(query={"source": "erp"}))

    assert event.event_id == "sha256:" + hashlib.sha256(BODY).hexdigest()
    assert event.payload == {
        "body": {"id": "evt_1", "data": {"invoice": 42}},
        "headers": {"content-type": "application/json"},
        "query": {"source": "erp"},
    }
    assert event.documents == []


# --- Shared secret in a header ------------------------------------------------


def test_shared_secret_header_accepts_the_right_secret_and_keeps_it_out():
    hook = connector(verification="shared_secret_header", secret=SHARED)
    headers = {
        "x-webhook-secret": SHARED,
        "authorization": "Bearer abc.def",
        "cookie": "sessionid=42",
        "x-api-key": "k-123",
        "x-event-type": "invoice.created",
        "x-innocent": f"prefix {SHARED}",
        "user-agent": "ERP/7",
    }

    [event] = receive(hook, inbound(headers=headers))

    assert event.payload["headers"] == {
        "content-type": "application/json",
        "user-agent": "ERP/7",
        "x-event-type": "invoice.created",
    }
    assert SHARED not in str(event.payload)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"x-webhook-secret": "guess"},
            "The secret in the X-Webhook-Secret header does not match: the "
            "sender does not know this webhook's secret.",
        ),
        (
            {},
            "The delivery has no X-Webhook-Secret header: the sender must send "
            "this webhook's secret in it.",
        ),
    ],
)
def test_shared_secret_header_refuses_a_wrong_or_missing_secret(headers, message):
    hook = connector(verification="shared_secret_header", secret=SHARED)

    with pytest.raises(AuthError) as caught:
        receive(hook, inbound(headers=headers))

    assert caught.value.message == message


def test_shared_secret_header_name_is_configurable_and_case_insensitive():
    hook = connector(
        verification="shared_secret_header", secret=SHARED, header_name="X-Token-A"
    )

    [event] = receive(hook, inbound(headers={"x-token-a": SHARED}))

    assert event.payload["headers"] == {"content-type": "application/json"}


# --- Shared secret in the query string ----------------------------------------


def test_shared_secret_query_accepts_and_drops_the_secret_parameter():
    hook = connector(verification="shared_secret_query", secret=SHARED)

    [event] = receive(hook, inbound(query={"token": SHARED, "tenant": "emea"}))

    assert event.payload["query"] == {"tenant": "emea"}


def test_a_secret_repeated_in_the_body_is_masked_in_the_payload():
    hook = connector(verification="shared_secret_query", secret=SHARED)
    body = (
        b'{"token": "s3cret-shared-Value", "items": [{"note": "s3cret-shared-Value!"}]}'
    )

    [event] = receive(hook, inbound(body=body, query={"token": SHARED}))

    assert event.payload["body"] == {
        "token": "(secret removed)",
        "items": [{"note": "(secret removed)"}],
    }
    assert event.event_id == "sha256:" + hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"token": SHARED + "x"},
            "The secret in the “token” query parameter does not match: the "
            "sender does not know this webhook's secret.",
        ),
        (
            {"tenant": "emea"},
            "The delivery has no “token” query parameter: the sender must send "
            "this webhook's secret in it.",
        ),
    ],
)
def test_shared_secret_query_refuses_a_wrong_or_missing_secret(query, message):
    hook = connector(verification="shared_secret_query", secret=SHARED)

    with pytest.raises(AuthError) as caught:
        receive(hook, inbound(query=query))

    assert caught.value.message == message


# --- GitHub -------------------------------------------------------------------


def test_github_accepts_a_body_signed_with_the_secret():
    hook = connector(
        verification="github", secret=SHARED, event_id_source="X-GitHub-Delivery"
    )
    headers = {
        "x-hub-signature-256": github_signature(BODY),
        "x-hub-signature": "sha1=0000",
        "x-github-event": "push",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    }

    [event] = receive(hook, inbound(headers=headers))

    assert event.event_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert event.payload["headers"] == {
        "content-type": "application/json",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "x-github-event": "push",
    }


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (github_signature(BODY, "another-secret"), MISMATCH),
        (github_signature(BODY + b" "), MISMATCH),
        (
            None,
            "The delivery has no X-Hub-Signature-256 header: enter this "
            "webhook's secret in the sender's webhook settings.",
        ),
        ("sha1=abcdef", "The X-Hub-Signature-256 header is not of the form sha256=…"),
    ],
)
def test_github_refuses_a_wrong_missing_or_malformed_signature(signature, message):
    hook = connector(verification="github", secret=SHARED)
    headers = {"x-hub-signature-256": signature} if signature else {}

    with pytest.raises(AuthError) as caught:
        receive(hook, inbound(headers=headers))

    assert caught.value.message == message
    assert SHARED not in caught.value.message
    if signature:
        assert signature not in caught.value.message


# --- Standard Webhooks --------------------------------------------------------


def test_standard_webhooks_accepts_a_fresh_signed_delivery():
    hook = connector(
        verification="standard_webhooks", secret=WHSEC, event_id_source="webhook-id"
    )
    headers = standard_headers()

    [event] = receive(hook, inbound(headers=headers))

    assert event.event_id == "msg_2Lh9"
    assert event.payload["headers"] == {
        "content-type": "application/json",
        "webhook-id": "msg_2Lh9",
        "webhook-timestamp": headers["webhook-timestamp"],
    }


def test_standard_webhooks_refuses_another_secret():
    hook = connector(verification="standard_webhooks", secret=WHSEC)
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUA=="

    with pytest.raises(AuthError) as caught:
        receive(hook, inbound(headers=standard_headers(secret=other)))

    assert caught.value.message == MISMATCH


def test_standard_webhooks_refuses_a_six_minute_old_delivery():
    hook = connector(verification="standard_webhooks", secret=WHSEC)
    sent = datetime.now(UTC) - timedelta(minutes=6)

    with pytest.raises(AuthError) as caught:
        receive(hook, inbound(headers=standard_headers(sent=sent)))

    assert caught.value.message == (
        "The delivery is older than 5 minutes: it may be a replay of an old "
        "delivery, or the sender's clock is wrong."
    )


def test_standard_webhooks_refuses_a_delivery_from_the_future():
    hook = connector(verification="standard_webhooks", secret=WHSEC)
    sent = datetime.now(UTC) + timedelta(minutes=6)

    with pytest.raises(AuthError) as caught:
        receive(hook, inbound(headers=standard_headers(sent=sent)))

    assert caught.value.message == (
        "The delivery is dated more than 5 minutes in the future: check the "
        "sender's clock."
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"webhook-signature": ""},
            "The delivery has no webhook-signature header: Standard Webhooks "
            "senders sign every delivery with webhook-id, webhook-timestamp and "
            "webhook-signature.",
        ),
        ({"webhook-signature": "v1 no-comma"}, MISMATCH),
        ({"webhook-signature": "v1,%%%not-base64"}, MISMATCH),
        ({"webhook-id": "msg_other"}, MISMATCH),
        (
            {"webhook-timestamp": "yesterday"},
            "The webhook-timestamp header is not a Unix time in seconds.",
        ),
    ],
)
def test_standard_webhooks_refuses_missing_or_tampered_headers(change, message):
    hook = connector(verification="standard_webhooks", secret=WHSEC)
    headers = {**standard_headers(), **change}

    with pytest.raises(AuthError) as caught:
        receive(hook, inbound(headers=headers))

    assert caught.value.message == message


# --- Body ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"id": "evt_1",',
            "The body is not valid JSON: unexpected end of data (line 1, column 16).",
        ),
        (
            b"",
            "The body is not valid JSON: Input is a zero-length, empty document "
            "(line 1, column 1).",
        ),
        (b'"just text"', "The body must be a JSON object or array, not a string."),
        (b"42", "The body must be a JSON object or array, not a number."),
        (b"null", "The body must be a JSON object or array, not null."),
    ],
)
def test_a_body_that_is_not_a_json_object_or_array_is_refused(body, message):
    hook = connector(verification="none")

    with pytest.raises(PermanentError) as caught:
        receive(hook, inbound(body=body))

    assert caught.value.message == message


def test_a_json_array_body_is_accepted():
    hook = connector(verification="none")

    [event] = receive(hook, inbound(body=b'[{"id": 1}, {"id": 2}]'))

    assert event.payload["body"] == [{"id": 1}, {"id": 2}]


def test_a_form_encoded_body_becomes_a_dict_with_repeated_fields_as_lists():
    hook = connector(verification="none")
    request = inbound(
        body=b"name=Ada+L.&tag=a&tag=b&empty=",
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
    )

    [event] = receive(hook, request)

    assert event.payload["body"] == {"name": "Ada L.", "tag": ["a", "b"], "empty": ""}


# --- Event id -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("id", "evt_1"),
        ("body:id", "evt_1"),
        ("data.invoice", "42"),
        ("x-request-id", "req-7"),
        ("header:X-Request-Id", "req-7"),
    ],
)
def test_the_event_id_comes_from_a_header_or_a_body_path(source, expected):
    hook = connector(verification="none", event_id_source=source)

    [event] = receive(hook, inbound(headers={"x-request-id": "req-7"}))

    assert event.event_id == expected


def test_the_same_body_gives_the_same_event_id_without_a_source():
    hook = connector(verification="none")

    [first] = receive(hook, inbound())
    [again] = receive(hook, inbound(headers={"user-agent": "retry"}))
    [other] = receive(hook, inbound(body=b'{"id": "evt_2"}'))

    assert first.event_id == again.event_id
    assert other.event_id != first.event_id


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("data.missing", "The body has no “data.missing” to take the event id from."),
        (
            "data",
            "“data” in the body is not a text or a whole number, so it cannot be "
            "the event id.",
        ),
        (
            "webhook-id",
            "The delivery has no webhook-id header to take its event id from.",
        ),
    ],
)
def test_a_missing_event_id_is_refused(source, message):
    hook = connector(verification="none", event_id_source=source)

    with pytest.raises(PermanentError) as caught:
        receive(hook, inbound())

    assert caught.value.message == message


# --- Settings and check -------------------------------------------------------


@pytest.mark.parametrize(
    "mode",
    ["shared_secret_header", "shared_secret_query", "github", "standard_webhooks"],
)
def test_every_verifying_mode_needs_a_secret(mode):
    with pytest.raises(ValidationError) as caught:
        connector(verification=mode)

    [error] = caught.value.errors()
    assert (error["loc"], error["msg"]) == (
        ("secret",),
        f"“{MODE_LABELS[mode]}” needs a secret: enter the secret shared with "
        "the sender",
    )


def test_a_standard_webhooks_secret_must_be_whsec_base64_and_is_not_echoed():
    with pytest.raises(ValidationError) as caught:
        connector(verification="standard_webhooks", secret="plain-password-77")

    [error] = caught.value.errors()
    assert (error["loc"], error["msg"]) == (
        ("secret",),
        "a Standard Webhooks secret starts with whsec_ followed by base64: copy "
        "it as the sending system shows it",
    )
    assert "plain-password-77" not in str(caught.value)


def test_an_invalid_event_id_source_is_refused():
    with pytest.raises(ValidationError) as caught:
        connector(verification="none", event_id_source="data..id")

    assert "“data..id” is not a dotted path such as data.id" in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"verification": "github", "secret": SHARED},
            "Ready to receive webhooks signed with GitHub's X-Hub-Signature-256.",
        ),
        (
            {"verification": "shared_secret_header", "secret": SHARED},
            "Ready to receive webhooks that carry the shared secret in the "
            "X-Webhook-Secret header.",
        ),
        (
            {"verification": "shared_secret_query", "secret": SHARED},
            "Ready to receive webhooks that carry the shared secret in the "
            "“token” query parameter.",
        ),
        (
            {"verification": "standard_webhooks", "secret": WHSEC},
            "Ready to receive Standard Webhooks signed with this secret "
            "(webhook-id, webhook-timestamp, webhook-signature).",
        ),
        (
            {"verification": "none"},
            "Ready to receive webhooks without verification: anyone who knows "
            "the address can start a run.",
        ),
    ],
)
def test_check_explains_the_verification_mode(settings, message):
    assert connector(**settings).check().message == message


def test_the_secret_is_a_secret_field():
    assert WebhookConnector.Config.secret_fields() == ("secret",)
    hook = connector(verification="github", secret=SHARED)
    assert SHARED not in str(hook.config.public_settings())
