"""What every emulated Trading Grid call shares: the error body, the
bearer check and injected faults.

Errors look like the platform's: ``{"status": 404, "message": "...",
"error-code": "..."}`` [V for Cartographer; the error codes are [I]].
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.tradinggrid.emulator import state

View = Callable[..., HttpResponse]
logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer with the platform's error body."""

    def __init__(self, status: int, message: str, code: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.extra = extra


def error(status: int, message: str, code: str, **extra: Any) -> JsonResponse:
    return JsonResponse(
        {"status": status, "message": message, "error-code": code, **extra},
        status=status,
    )


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object in the body; a 400 when it is not one."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(
            400, "The request body is not valid JSON.", "BAD_REQUEST"
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", "BAD_REQUEST")
    return body


def grid(*methods: str, signed_in: bool = True, faults: bool = True) -> Callable:
    """An emulated endpoint: 405 for other methods, injected faults first,
    then the bearer token (the view gets the caller's ``company``)."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response: HttpResponse = error(
                    405, f"The {request.method} method is not supported.", "METHOD"
                )
                response["Allow"] = ", ".join(methods)
                return response
            fault = state.take_fault() if faults else None
            if fault is not None:
                response = error(
                    fault.status,
                    fault.message or "The service is temporarily busy.",
                    "THROTTLED" if fault.status == 429 else "UNAVAILABLE",
                )
                response["Retry-After"] = f"{fault.seconds:g}"
                return response
            if signed_in:
                header = request.headers.get("Authorization", "")
                company = state.company_of_token(header.removeprefix("Bearer ").strip())
                if company is None:
                    response = error(
                        401,
                        "The access token is missing, invalid or expired.",
                        "UNAUTHORIZED",
                    )
                    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                    return response
                kwargs["company"] = company
            try:
                return view(request, *args, **kwargs)
            except ApiError as problem:
                return error(
                    problem.status, problem.message, problem.code, **problem.extra
                )
            except Exception as problem:
                logger.exception("The Trading Grid emulator failed on %s", request.path)
                return error(
                    500, f"Internal error: {type(problem).__name__}", "INTERNAL"
                )

        return wrapped

    return decorate
