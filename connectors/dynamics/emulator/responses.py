"""The plumbing every emulated Web API call shares: errors, faults, tokens.

Errors are Dataverse's ``{"error":{"code","message"}}`` bodies. A queued
fault answers first (429 with ``Retry-After``); then the bearer token is
checked. The 401 body for a missing or expired token is [I]: Dataverse
sends 401 with a ``WWW-Authenticate`` header; the body here follows the
documented error shape.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.dynamics.emulator import state

View = Callable[..., HttpResponse]
logger = logging.getLogger(__name__)

NOT_FOUND = "0x80040217"
BAD_REQUEST = "0x80060888"
STALE = "0x80060882"
DUPLICATE = "0x80040237"
THROTTLED = "0x80072322"
UNAUTHORIZED = "0x80072560"  # [I]
ODATA_HEADERS = {"OData-Version": "4.0"}


class ApiError(Exception):
    """An error answer with Dataverse's body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse(
        {"error": {"code": code, "message": message}}, status=status
    )
    response["OData-Version"] = "4.0"
    return response


def json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        loaded = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(
            400, BAD_REQUEST, "The request body is not valid JSON."
        ) from None
    if not isinstance(loaded, dict):
        raise ApiError(400, BAD_REQUEST, "The request body must be a JSON object.")
    return loaded


def base_url(request: HttpRequest, path: str = "") -> str:
    """An absolute URL on this emulator, in the scheme the caller used
    (``X-Forwarded-Proto`` from a TLS-terminating proxy wins)."""
    scheme = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
    root = f"{scheme or request.scheme}://{host or request.get_host()}"
    return root + "/sandbox/dynamics/" + path.lstrip("/")


def prefers(request: HttpRequest) -> dict[str, str]:
    """The ``Prefer`` header as ``{name: value}`` (value "" when bare)."""
    found = {}
    for part in request.headers.get("Prefer", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            found[name.strip().lower()] = value.strip().strip('"')
    return found


def web_api(*methods: str) -> Callable[[View], View]:
    """A Web API endpoint: CSRF-exempt, 405 for other methods, injected
    faults first, then the bearer token; errors as Dataverse bodies."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response: HttpResponse = error(
                    405, BAD_REQUEST, f"The {request.method} method is not allowed."
                )
                response["Allow"] = ", ".join(methods)
                return response
            state.ensure_seed()
            fault = state.take_fault()
            if fault is not None:
                response = error(
                    fault.status,
                    THROTTLED if fault.status == 429 else "0x80040216",
                    "Number of requests exceeded the limit of 6000 over time "
                    "window of 300 seconds."
                    if fault.status == 429
                    else "An unexpected error occurred.",
                )
                response["Retry-After"] = f"{fault.seconds:g}"
                return response
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not state.token_valid(token.strip()):
                response = error(
                    401,
                    UNAUTHORIZED,
                    "The access token is missing, expired or invalid.",
                )
                response["WWW-Authenticate"] = (
                    'Bearer authorization_uri="'
                    + base_url(request, "common/oauth2/authorize")
                    + '"'
                )
                return response
            try:
                response = view(request, *args, **kwargs)
            except ApiError as problem:
                response = error(problem.status, problem.code, problem.message)
            except Exception as problem:
                logger.exception("The Dataverse emulator failed on %s", request.path)
                response = error(500, "0x80040216", f"Internal error: {problem!r}")
            for name, value in ODATA_HEADERS.items():
                response.setdefault(name, value)
            return response

        return wrapped

    return decorate
