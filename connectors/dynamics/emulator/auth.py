"""Entra ID as far as client credentials go, and the sandbox's controls.

``<tenant>/oauth2/v2.0/token`` (scope) and ``<tenant>/oauth2/token`` (v1,
resource) issue app-only tokens for the public sandbox app
``sandbox-client`` / ``sandbox-secret``; the client may authenticate in
the form body or with HTTP Basic. ``<tenant>/v2.0/.well-known/
openid-configuration`` is the discovery document msal and other libraries
read first, with URLs built from the request (``X-Forwarded-Proto``).

``_sandbox/faults`` is an emulator-only extension (not part of Dataverse):
``POST {"status": 429, "count": 1, "seconds": 2}`` queues failures;
``{"token_lifetime": 5}`` shortens the lifetime of new tokens;
``{"revoke_tokens": true}`` makes every token issued so far expire;
``DELETE`` clears faults and settings.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from connectors.dynamics.emulator import state
from connectors.dynamics.emulator.responses import base_url
from connectors.dynamics.sandbox.models import DvFault, DvSetting


def _oauth_error(status: int, code: str, description: str) -> JsonResponse:
    return JsonResponse(
        {"error": code, "error_description": description, "error_codes": []},
        status=status,
    )


def _client(request: HttpRequest) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            pair = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = pair.partition(":")
        return unquote(client_id), unquote(secret)
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


@csrf_exempt
@require_http_methods(["POST"])
def token(request: HttpRequest, tenant: str, version: str = "v2.0") -> HttpResponse:
    """The client credentials grant, as Entra ID answers it."""
    if request.POST.get("grant_type") != "client_credentials":
        return _oauth_error(
            400,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        )
    client_id, secret = _client(request)
    if client_id != state.CLIENT_ID or not hmac.compare_digest(
        secret.encode(), state.CLIENT_SECRET.encode()
    ):
        return _oauth_error(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret "
            "being sent in the request is the client secret value.",
        )
    audience = request.POST.get("scope" if version == "v2.0" else "resource", "")
    if version == "v2.0" and not audience.rstrip().endswith("/.default"):
        return _oauth_error(
            400,
            "invalid_scope",
            "AADSTS1002012: The provided value for scope is not valid. Client "
            "credential flows must have a scope value with /.default suffixed "
            "to the resource identifier.",
        )
    value, lifetime = state.issue_token(client_id)
    return JsonResponse(
        {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": value,
        }
    )


@require_http_methods(["GET"])
def openid_configuration(request: HttpRequest, tenant: str) -> HttpResponse:
    """The OpenID discovery document (the fields msal reads, and more)."""
    base = base_url(request, tenant)
    return JsonResponse(
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        }
    )


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def faults(request: HttpRequest) -> HttpResponse:
    """Sandbox only: queue failures, change token settings, or clear both."""
    if request.method == "POST":
        values = _values(request)
        if "status" in values:
            DvFault.objects.create(
                status=int(values["status"]),
                remaining=int(values.get("count", 1)),
                seconds=float(values.get("seconds", 1)),
            )
        if "token_lifetime" in values:
            state.set_setting("token_lifetime", int(values["token_lifetime"]))
        if str(values.get("revoke_tokens", "")).lower() in ("1", "true"):
            generation = state.setting("token_generation", 0) + 1
            state.set_setting("token_generation", generation)
    elif request.method == "DELETE":
        DvFault.objects.all().delete()
        DvSetting.objects.filter(name="token_lifetime").delete()
    queued = [
        {"status": f.status, "remaining": f.remaining, "seconds": f.seconds}
        for f in DvFault.objects.order_by("id")
    ]
    return JsonResponse({"faults": queued})


def _values(request: HttpRequest) -> dict[str, Any]:
    if (request.content_type or "").startswith("application/json"):
        loaded = json.loads(request.body or b"{}")
        return loaded if isinstance(loaded, dict) else {}
    return request.POST.dict()
