"""The address senders post webhooks to: ``/hooks/<connection id>/``."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.base import InboundRequest
from connectors.errors import PermanentError
from connectors.models import Connection
from connectors.webhook.delivery import TRIGGER, accept_delivery, record_rejection

MAX_BODY_BYTES = 1024 * 1024
NOT_HERE = "There is no webhook at this address."


@csrf_exempt
def receive_hook(request: HttpRequest, connection_id: int) -> JsonResponse:
    """Hand one delivery to ``accept_delivery`` and answer in JSON.

    Senders authenticate with the connection's secret, not a CSRF token or
    a session, hence ``csrf_exempt``.
    """
    if request.method != "POST":
        response = JsonResponse(
            {"error": "Webhooks are delivered with POST."}, status=405
        )
        response["Allow"] = "POST"
        return response
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or not _receives_webhooks(connection):
        return JsonResponse({"error": NOT_HERE}, status=404)
    body = read_body(request)
    if body is None:
        reason = "The body is larger than the 1 MB a webhook may carry."
        record_rejection(connection, reason)
        return JsonResponse({"error": reason}, status=413)
    inbound = InboundRequest(
        method=request.method,
        path=request.path,
        headers={name.lower(): value for name, value in request.headers.items()},
        query={name: value for name, value in request.GET.items()},
        body=body,
        remote_addr=request.META.get("REMOTE_ADDR", ""),
    )
    outcome = accept_delivery(connection, inbound)
    return JsonResponse(outcome.as_json(), status=outcome.http_status)


def _receives_webhooks(connection: Connection) -> bool:
    try:
        spec = connection.connector_class.triggers.get(TRIGGER)
    except PermanentError:  # the connector is not installed
        return False
    return spec is not None and spec.kind == "webhook"


def read_body(request: HttpRequest) -> bytes | None:
    """The body, or None when it is larger than ``MAX_BODY_BYTES``.

    Reads at most one byte more than the limit, so a sender that lies about
    (or omits) Content-Length cannot make the server hold more.
    """
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body
