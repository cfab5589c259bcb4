"""One JSON shape for every API error.

``{"error": "<machine code>", "message": "<a sentence>", "fields": {...}}``:
``error`` is stable for programs, ``message`` is for people, and ``fields``
(only for invalid input) names each field's problems. The request id is in
the ``X-Request-ID`` header and in ``request_id``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from xconnector.middleware import request_id_var

MESSAGES = {
    "not_authenticated": "Sign in, or send a valid API token "
    "(Authorization: Token <key>).",
    "authentication_failed": "The API token is not valid, has expired or was "
    "revoked: create a new one.",
    "permission_denied": "Your role does not allow this.",
    "not_found": "There is nothing at this address, or you may not see it.",
    "method_not_allowed": "This address does not accept that method.",
    "not_acceptable": "The API answers in JSON only.",
    "unsupported_media_type": "Send the request body as JSON "
    "(Content-Type: application/json).",
    "parse_error": "The request body is not valid JSON.",
}


class Conflict(exceptions.APIException):
    """The request is valid but the object's state does not allow it now."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "This cannot be done in the object's current state."


def body(code: str, message: str, fields: Any = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"error": code, "message": message}
    if fields:
        payload["fields"] = fields
    payload["request_id"] = request_id_var.get()
    return payload


def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, answering in the API's one shape."""
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's 500 handler answers
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        response.data = body("invalid", _sentence(fields), fields)
        return response
    if isinstance(exc, (Http404, exceptions.NotFound)):
        code = "not_found"
    elif isinstance(exc, PermissionDenied):
        code = "permission_denied"
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
    else:
        code = "error"
    detail = getattr(exc, "detail", None)
    message = str(detail) if detail and not _is_default(exc) else ""
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
        message = (
            "Too many requests with this token: wait "
            f"{exc.wait or 1:.0f} seconds and try again."
        )
    response.data = body(str(code), message or MESSAGES.get(str(code), str(detail)))
    return response


def _is_default(exc: Exception) -> bool:
    """True when DRF's own English default is all the exception says."""
    detail = getattr(exc, "detail", None)
    default = getattr(exc, "default_detail", None)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return True
    return default is not None and str(detail) == str(default)


def _fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "__all__" if key == "non_field_errors" else str(key)
            for sub, messages in _fields(value).items():
                flat[name if sub == "__all__" else f"{name}.{sub}"] = messages
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return {"__all__": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            for sub, messages in _fields(item).items():
                key = str(index) if sub == "__all__" else f"{index}.{sub}"
                flat[key] = messages
        return flat
    return {"__all__": [str(detail)]}


def _sentence(fields: dict[str, list[str]]) -> str:
    parts = [
        (" ".join(messages) if name == "__all__" else f"{name}: {' '.join(messages)}")
        for name, messages in fields.items()
    ]
    return "The request is not valid. " + " ".join(parts)


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ address that names no operation."""
    return JsonResponse(body("not_found", MESSAGES["not_found"]), status=404)


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> Any:
    """django-axes' answer once a user name is locked after failed sign-ins:
    the API's error shape under /api/, the page everywhere else."""
    from django.conf import settings
    from django.shortcuts import render

    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        message = (
            "Too many failed sign-ins for this user: sign-in is paused for "
            f"{minutes} minutes, or until an administrator unlocks it."
        )
        return JsonResponse(body("locked_out", message), status=status)
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=status)
