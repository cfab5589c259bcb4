"""The plumbing every emulated Exstream call shares.

Two error shapes, as documented (EXTERNAL_APIS.md section 2):

- a generation that fails answers ``{"data": [{errorMessage, statusCode,
  engineOutputContext}]}`` (an *error item*) [V];
- everything else answers the Spring-style server error ``{"timestamp",
  "status", "message", "details"}`` [O].
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from connectors.exstream.emulator import state

View = Callable[..., HttpResponse]
logger = logging.getLogger(__name__)


class ServerError(Exception):
    """An answer in the server error shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; a 400 in the server error shape otherwise."""
    try:
        value = json.loads(request.body or b"{}")
    except ValueError:
        raise ServerError(400, "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ServerError(400, "The request body must be a JSON object.")
    return value


class ItemError(Exception):
    """An answer in the error item shape (generation failures)."""

    def __init__(
        self, status: int, message: str, customer_number: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.customer_number = customer_number


def server_error(request: HttpRequest, status: int, message: str) -> JsonResponse:
    return JsonResponse(
        {
            "timestamp": timezone.now().isoformat(timespec="milliseconds"),
            "status": status,
            "message": message,
            "details": f"uri={request.path}",
        },
        status=status,
    )


def error_item(status: int, message: str, customer: str | None = None) -> JsonResponse:
    return JsonResponse(
        {
            "data": [
                {
                    "errorMessage": message,
                    "statusCode": status,
                    "engineOutputContext": {
                        "queueName": None,
                        "fileName": None,
                        "customerNumber": customer,
                    },
                }
            ]
        },
        status=status,
    )


def api(*methods: str, signed_in: bool = True, faults: bool = True) -> Callable:
    """An emulated endpoint: CSRF-exempt, 405 for other methods, injected
    faults first, then the bearer token (401 when missing or expired)."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response: HttpResponse = server_error(
                    request, 405, f"Request method '{request.method}' not supported"
                )
                response["Allow"] = ", ".join(methods)
                return response
            state.ensure_seed()
            fault = state.take_fault() if faults else None
            if fault is not None:
                response = server_error(request, fault.status, fault.message)
                if fault.status in (429, 503):
                    response["Retry-After"] = f"{fault.seconds:g}"
                return response
            if (
                signed_in
                and state.valid_token(request.headers.get("Authorization", "")) is None
            ):
                response = server_error(request, 401, "Unauthorized")
                response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                return response
            try:
                return view(request, *args, **kwargs)
            except ItemError as problem:
                return error_item(
                    problem.status, problem.message, problem.customer_number
                )
            except ServerError as problem:
                return server_error(request, problem.status, problem.message)
            except Exception as problem:
                # Clients parse JSON errors: never answer Django's HTML page.
                logger.exception("The Exstream emulator failed on %s", request.path)
                return server_error(
                    request, 500, f"Internal error: {type(problem).__name__}"
                )

        return wrapped

    return decorate
