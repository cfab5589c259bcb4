"""The plumbing every emulated Content Server call shares.

Request bodies arrive as flat form fields, as one ``body`` form field holding
JSON (what pyxecm sends), as multipart with ``body`` + ``file``, or as a raw
JSON body; :func:`params` merges them into one dict. Errors are
``{"error": ...}`` with Content Server's status codes; ``suppress_response_codes``
turns every answer into a 200 that carries ``statusCode`` in the body.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt

from connectors.otcs.emulator import state

View = Callable[..., HttpResponse]
logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer: ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> JsonResponse:
    """Content Server's error body."""
    return JsonResponse({"error": message}, status=status)


def _form(request: HttpRequest) -> tuple[QueryDict, Any]:
    # Django parses form bodies for POST only; PUT and DELETE bodies are parsed
    # here the same way (multipart through Django's streaming parser).
    if request.method == "POST":
        return request.POST, request.FILES
    parsed = getattr(request, "_otcs_form", None)
    if parsed is None:
        parsed = _parse(request)
        request._otcs_form = parsed  # type: ignore[attr-defined]
    return parsed


def _parse(request: HttpRequest) -> tuple[QueryDict, Any]:
    content_type = request.content_type or ""
    if content_type.startswith("multipart/form-data"):
        return request.parse_file_upload(request.META, request)
    if content_type == "application/x-www-form-urlencoded":
        return QueryDict(request.body, encoding=request.encoding), {}
    return QueryDict(), {}


def params(request: HttpRequest) -> dict[str, Any]:
    """Flat fields, then the ``body`` JSON on top; or a raw JSON body."""
    if (request.content_type or "").startswith("application/json"):
        try:
            loaded = json.loads(request.body or b"{}")
        except ValueError:
            raise ApiError(400, "The request body is not valid JSON.") from None
        if not isinstance(loaded, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        return loaded
    form, _ = _form(request)
    merged: dict[str, Any] = {key: form.get(key) for key in form}
    if "body" in merged:
        try:
            body = json.loads(merged.pop("body") or "{}")
        except ValueError:
            raise ApiError(400, "The body parameter is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The body parameter must be a JSON object.")
        merged.update(body)
    return merged


def uploaded_file(request: HttpRequest) -> UploadedFile | None:
    """The multipart ``file`` part (kept on disk by Django when large)."""
    _, files = _form(request)
    return files.get("file") if files else None


def integer(value: Any, name: str) -> int:
    """``value`` as an int, or a 400 naming the parameter."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid value for parameter {name}.") from None


def date_param(value: Any, name: str) -> datetime | None:
    """An ISO date or date-time parameter (UTC when it has no zone), None
    when empty, or a 400 naming the parameter."""
    if value in (None, ""):
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            raise ApiError(400, f"Invalid value for parameter {name}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def require(values: dict[str, Any], name: str) -> Any:
    """A required argument; missing ones are a 400 as in Content Server."""
    value = values.get(name)
    if value in (None, ""):
        raise ApiError(400, f"Argument {name} is required.")
    return value


def _suppressed(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    flag = request.GET.get("suppress_response_codes")
    if flag is None or not isinstance(response, JsonResponse):
        return response
    body = json.loads(response.content or b"{}")
    if isinstance(body, dict):
        body["statusCode"] = response.status_code
        suppressed = JsonResponse(body)
        for name in ("OTCSTicket", "Retry-After"):
            if name in response:
                suppressed[name] = response[name]
        return suppressed
    return response


def otcs(*methods: str, signed_in: bool = True, faults: bool = True) -> Callable:
    """An emulated endpoint.

    CSRF-exempt; 405 for other methods; injected faults first; then the
    ``OTCSTicket`` header is checked (unless ``signed_in`` is false) and the
    refreshed ticket is sent back on every successful answer. The view gets
    the caller's user id as ``user_id``.
    """

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response: HttpResponse = error(
                    405, f"The {request.method} method is not supported."
                )
                response["Allow"] = ", ".join(methods)
                return response
            state.ensure_seed()
            fault = state.take_fault() if faults else None
            if fault is not None and fault.status == 0:
                if not fault.after:
                    time.sleep(fault.seconds)
            elif fault is not None:
                response = error(fault.status, fault.message)
                if fault.status in (429, 503):
                    response["Retry-After"] = f"{fault.seconds:g}"
                return _suppressed(request, response)
            ticket = None
            if signed_in:
                ticket = state.touch_ticket(request.headers.get("OTCSTicket", ""))
                if ticket is None:
                    return _suppressed(request, error(401, state.AUTH_REQUIRED))
                kwargs["user_id"] = ticket.user_id
            try:
                response = view(request, *args, **kwargs)
            except ApiError as problem:
                response = error(problem.status, problem.message)
            except Exception as problem:
                # Clients parse JSON errors: never answer Django's HTML page.
                logger.exception("The OTCS emulator failed on %s", request.path)
                response = error(500, f"Internal error: {type(problem).__name__}")
            if ticket is not None and response.status_code < 400:
                response["OTCSTicket"] = ticket.value
            if fault is not None and fault.after:
                time.sleep(fault.seconds)  # done, but the caller gave up
            return _suppressed(request, response)

        return wrapped

    return decorate
