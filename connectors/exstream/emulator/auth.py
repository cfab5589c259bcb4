"""OTDS tokens, the version call, and the sandbox's fault and token controls.

``POST otdsws/oauth2/token`` (also ``otdstenant/<tenant>/otdsws/oauth2/token``)
takes the OAuth 2.0 client credentials grant with the client id and secret
in a Basic header or in the form; it answers ``{access_token, token_type,
expires_in}`` and OAuth error bodies (``invalid_client``, 401).

Sandbox only, not part of Exstream:

- ``POST _sandbox/faults`` ``{"status": 429, "count": 1, "seconds": 7}``
  makes the next ``count`` API calls answer ``status`` (with
  ``Retry-After: seconds`` for 429 and 503); ``DELETE`` clears them;
- ``POST _sandbox/tokens/expire`` makes every token handed out so far
  expire now, so a client's renewal on 401 can be tested.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from connectors.exstream.emulator import state
from connectors.exstream.emulator.responses import ServerError, api, json_body
from connectors.exstream.sandbox.models import ExstreamFault, ExstreamToken


def _oauth_error(status: int, error: str, description: str) -> JsonResponse:
    return JsonResponse(
        {"error": error, "error_description": description}, status=status
    )


def _client_credentials(request: HttpRequest) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


@csrf_exempt
def token(request: HttpRequest, tenant: str = "") -> HttpResponse:
    """The OAuth 2.0 token endpoint (client credentials only)."""
    if request.method != "POST":
        response = _oauth_error(405, "invalid_request", "Use POST.")
        response["Allow"] = "POST"
        return response
    if request.POST.get("grant_type") != "client_credentials":
        return _oauth_error(
            400,
            "unsupported_grant_type",
            "The sandbox supports the client_credentials grant only.",
        )
    client_id, secret = _client_credentials(request)
    if client_id != state.SANDBOX_CLIENT_ID or not hmac.compare_digest(
        secret.encode(), state.SANDBOX_CLIENT_SECRET.encode()
    ):
        return _oauth_error(401, "invalid_client", "Client authentication failed.")
    issued = state.issue_token(client_id)
    return JsonResponse(
        {
            "access_token": issued.value,
            "token_type": "Bearer",
            "expires_in": int(state.token_seconds()),
        }
    )


@api("GET")
def version(request: HttpRequest) -> HttpResponse:
    """``GET orchestration/api/v1/version`` [V]."""
    return JsonResponse(state.VERSION)


@api("GET", "POST", "DELETE", signed_in=False, faults=False)
def faults(request: HttpRequest) -> HttpResponse:
    """Sandbox only: queue, list or clear injected failures."""
    if request.method == "POST":
        values = json_body(request)
        try:
            status = int(values.get("status", 503))
            count = int(values.get("count", 1))
            seconds = float(values.get("seconds", 1))
        except (TypeError, ValueError):
            raise ServerError(
                400, "status, count and seconds must be numbers."
            ) from None
        if status not in {429, 500, 502, 503, 504} or not 1 <= count <= 100:
            raise ServerError(
                400, "status must be 429, 500, 502, 503 or 504; count 1..100."
            )
        ExstreamFault.objects.create(
            status=status,
            remaining=count,
            seconds=max(0.0, min(seconds, 3600.0)),
            message=str(values.get("message") or "The service is temporarily busy."),
        )
    elif request.method == "DELETE":
        ExstreamFault.objects.all().delete()
    queued = [
        {"status": fault.status, "remaining": fault.remaining}
        for fault in ExstreamFault.objects.order_by("id")
    ]
    return JsonResponse({"faults": queued})


@api("POST", signed_in=False, faults=False)
def expire_tokens(request: HttpRequest) -> HttpResponse:
    """Sandbox only: every token issued so far stops working now."""
    expired = ExstreamToken.objects.filter(expires_at__gt=timezone.now()).update(
        expires_at=timezone.now()
    )
    return JsonResponse({"expired": expired})
