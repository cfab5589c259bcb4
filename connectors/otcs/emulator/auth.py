"""Signing in and out, server status, and the sandbox's fault injection.

``POST api/v1/_sandbox/faults`` is an emulator-only extension (not part of
Content Server): ``{"status": 503, "count": 2}`` makes the next two calls to
any other endpoint answer 503 (with ``Retry-After: 1``); ``{"status": 429,
"rate": 0.1, "seconds": 2}`` makes one call in ten answer 429 with
``Retry-After: 2`` until cleared; ``{"status": 0, "rate": 0.1, "seconds": 3,
"after": true}`` makes one call in ten answer only after 3 seconds, having
done its work (a client with a shorter timeout gives up on a change that was
made). ``DELETE`` clears them all. It lets tests exercise a client's
transient-error handling.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from connectors.otcs.emulator import state
from connectors.otcs.emulator.responses import (
    ApiError,
    error,
    integer,
    otcs,
    params,
)
from connectors.sandbox.models import OtcsFault, OtcsTicket, OtcsUser

SERVER_VERSION = "25.1.0"


def _user(user: OtcsUser) -> dict[str, object]:
    return {
        "id": user.id,
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "business_email": user.email,
        "type": 0,
        "type_name": "User",
    }


@otcs("POST", signed_in=False)
def sign_in(request: HttpRequest) -> HttpResponse:
    """``username``, ``password`` (``domain`` is accepted and ignored)."""
    values = params(request)
    for name in ("username", "password"):
        if values.get(name) in (None, ""):
            # Content Server answers a missing argument with a 500.
            raise ApiError(500, f"Argument {name} is required")
    ticket = state.sign_in(str(values["username"]), str(values["password"]))
    if ticket is None:
        return error(401, state.BAD_CREDENTIALS)
    response = JsonResponse({"ticket": ticket.value})
    response["OTCSTicket"] = ticket.value
    return response


@otcs("GET", "HEAD", "DELETE")
def session(request: HttpRequest, user_id: int) -> HttpResponse:
    """``GET``: who is signed in; ``HEAD``: is the ticket valid; ``DELETE``:
    sign out (the ticket stops working)."""
    if request.method == "DELETE":
        value = request.headers.get("OTCSTicket", "")
        OtcsTicket.objects.filter(value=value).delete()
        return JsonResponse({})
    user = OtcsUser.objects.get(id=user_id)
    return JsonResponse({"data": _user(user)})


@csrf_exempt
def auth(request: HttpRequest) -> HttpResponse:
    """One address, ``api/v1/auth``: POST signs in, the rest need a ticket."""
    if request.method == "POST":
        return sign_in(request)
    return session(request)


@otcs("GET", signed_in=False)
def ping(request: HttpRequest) -> HttpResponse:
    """Ready to serve."""
    return JsonResponse({"rest_api": [{"build": 2, "href": "api/v1", "version": 1}]})


@otcs("GET", signed_in=False)
def serverinfo(request: HttpRequest) -> HttpResponse:
    """The server's version and languages."""
    return JsonResponse(
        {
            "mobile": {"cs_viewer_support": False},
            "server": {
                "advanced_versioning": False,
                "character_encoding": 1,
                "current_date": state.iso(timezone.now()),
                "domain_access_enabled": False,
                "language_code": "USA",
                "languages": [{"language_code": "en", "language_name": "English"}],
                "url": request.build_absolute_uri(request.path),
                "version": SERVER_VERSION,
            },
            "sessions": {"enabled": True, "expire_after_last_request": True},
        }
    )


@otcs("GET", "POST", "DELETE", signed_in=False, faults=False)
def faults(request: HttpRequest) -> HttpResponse:
    """Sandbox only: queue, list or clear injected failures."""
    if request.method == "POST":
        values = params(request)
        status = integer(values.get("status", 503), "status")
        count = integer(values.get("count") or 1, "count")
        if status not in {0, 429, 500, 502, 503, 504} or not 1 <= count <= 100:
            raise ApiError(
                400, "status must be 0, 429, 500, 502, 503 or 504; count 1..100."
            )
        rate = _number(values.get("rate"), "rate", 1.0)
        seconds = _number(values.get("seconds", 1), "seconds", 60.0)
        message = str(values.get("message") or "The server is temporarily busy.")
        OtcsFault.objects.create(
            status=status,
            remaining=0 if rate is not None else count,
            rate=rate,
            seconds=seconds if seconds is not None else 1,
            after=str(values.get("after", "")).lower() in ("1", "true"),
            message=message,
        )
    elif request.method == "DELETE":
        OtcsFault.objects.all().delete()
    queued = [
        {"status": fault.status, "remaining": fault.remaining, "rate": fault.rate}
        for fault in OtcsFault.objects.order_by("id")
    ]
    return JsonResponse({"faults": queued})


def _number(value: object, name: str, highest: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(str(value))
    except ValueError:
        raise ApiError(400, f"{name} must be a number.") from None
    if not 0 <= number <= highest:
        raise ApiError(400, f"{name} must be between 0 and {highest:g}.")
    return number
