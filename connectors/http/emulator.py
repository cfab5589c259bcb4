"""A small "orders" REST API to try the REST API connector on (/sandbox/http/).

23 orders, reachable with every pagination style the connector knows:

- ``orders/page?page=1&limit=10``: ``{"data": [...], "page", "limit", "total"}``
- ``orders/offset?offset=0&count=10``: ``{"items": [...], "offset", "count",
  "total"}``
- ``orders/cursor?cursor=&limit=10``: ``{"orders": [...], "next_cursor"}``
  (null on the last page)
- ``orders/next-link?limit=10``: ``{"results": [...], "links": {"next": url}}``
- ``orders/link-header?page=1&per_page=10``: a list, and
  ``Link: <url>; rel="next"``

and ``orders/<id>``, ``health``, ``secure/orders`` (bearer token, API key,
basic or an OAuth token from ``oauth/token``), ``busy`` (429 with
Retry-After), ``broken`` (500), ``maintenance`` (503), ``slow?seconds=``,
``v1/orders`` (a permanent redirect), ``echo`` (POST/PUT/PATCH),
``documents/<name>`` (a download) and ``sms/messages`` (an SMS gateway:
POST ``{"to": "+E.164 number", "text"}`` -> 201 ``{"id", "to", "status":
"queued", "segments"}``; the same ``Idempotency-Key`` gives the same id).
Errors are JSON: ``{"error", "message"}``.

The sandbox credentials below are public demo values, not secrets.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - public demo credential
SANDBOX_API_KEY = "sandbox-key"
SANDBOX_USER = "sandbox"
SANDBOX_PASSWORD = "sandbox-password"  # noqa: S105 - public demo credential
SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - public demo credential
TOKEN_LIFETIME = 3600
_TOKEN_SALT = "sandbox.http.token"  # noqa: S105 - a signing salt, not a secret
_CUSTOMERS = ["Acme GmbH", "Globex Corp", "Initech", "Umbrella plc", "Stark AG"]
_STATUSES = ["open", "shipped", "invoiced"]

ORDERS: list[dict[str, Any]] = [
    {
        "id": f"ORD-{1001 + i}",
        "customer": _CUSTOMERS[i % len(_CUSTOMERS)],
        "total": str(Decimal(120 + 37 * i).quantize(Decimal("0.01"))),
        "currency": "EUR",
        "status": _STATUSES[i % len(_STATUSES)],
        "created_at": f"2025-03-{i + 1:02d}T09:00:00Z",
    }
    for i in range(23)
]

app_name = "sandbox_http"


class _BadRequest(Exception):
    pass


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JsonResponse:
    return JsonResponse(
        {"error": code, "message": message}, status=status, headers=headers
    )


def api(
    *methods: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A sandbox endpoint: CSRF-exempt, JSON 405 and 400 answers."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return _error(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not allowed here.",
                    {"Allow": ", ".join(methods)},
                )
            try:
                return view(request, *args, **kwargs)
            except _BadRequest as problem:
                return _error(400, "bad_request", str(problem))

        return wrapped

    return decorate


def _int(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(f"{name} must be a whole number.") from None
    if not low <= value <= high:
        raise _BadRequest(f"{name} must be between {low} and {high}.")
    return value


def _same_path(request: HttpRequest, **query: Any) -> str:
    # Built from the request itself, so links work wherever this is mounted.
    return request.build_absolute_uri(request.path + "?" + urlencode(query))


# --- Orders, page by page -------------------------------------------------------------


@api("GET")
def health(request: HttpRequest) -> HttpResponse:
    """Whether the sandbox API is up."""
    return JsonResponse({"status": "ok", "service": "orders"})


@api("GET")
def orders_page(request: HttpRequest) -> HttpResponse:
    """Page-number pagination."""
    page = _int(request, "page", 1, 1, 10_000)
    limit = _int(request, "limit", 10, 1, 100)
    start = (page - 1) * limit
    return JsonResponse(
        {
            "data": ORDERS[start : start + limit],
            "page": page,
            "limit": limit,
            "total": len(ORDERS),
        }
    )


@api("GET")
def orders_offset(request: HttpRequest) -> HttpResponse:
    """Offset pagination."""
    offset = _int(request, "offset", 0, 0, 1_000_000)
    count = _int(request, "count", 10, 1, 100)
    return JsonResponse(
        {
            "items": ORDERS[offset : offset + count],
            "offset": offset,
            "count": count,
            "total": len(ORDERS),
        }
    )


@api("GET")
def orders_cursor(request: HttpRequest) -> HttpResponse:
    """Cursor pagination with an opaque cursor."""
    limit = _int(request, "limit", 10, 1, 100)
    start = 0
    if cursor := request.GET.get("cursor"):
        try:
            start = int(base64.urlsafe_b64decode(cursor).decode().removeprefix("o:"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _BadRequest("cursor is not one this API handed out.") from None
    end = start + limit
    following = base64.urlsafe_b64encode(f"o:{end}".encode()).decode()
    return JsonResponse(
        {
            "orders": ORDERS[start:end],
            "next_cursor": following if end < len(ORDERS) else None,
        }
    )


@api("GET")
def orders_next_link(request: HttpRequest) -> HttpResponse:
    """Next-link pagination: the body carries the next page's URL."""
    limit = _int(request, "limit", 10, 1, 100)
    after = request.GET.get("after", "")
    ids = [order["id"] for order in ORDERS]
    if after and after not in ids:
        raise _BadRequest(f"after: there is no order {after}.")
    start = ids.index(after) + 1 if after else 0
    page = ORDERS[start : start + limit]
    more = start + limit < len(ORDERS)
    following = _same_path(request, after=page[-1]["id"], limit=limit) if more else None
    return JsonResponse({"results": page, "links": {"next": following}})


@api("GET")
def orders_link_header(request: HttpRequest) -> HttpResponse:
    """Link-header pagination (RFC 8288), the body is the list itself."""
    page = _int(request, "page", 1, 1, 10_000)
    per_page = _int(request, "per_page", 10, 1, 100)
    start = (page - 1) * per_page
    response = JsonResponse(ORDERS[start : start + per_page], safe=False)
    last = max(1, -(-len(ORDERS) // per_page))

    def link(number: int, rel: str) -> str:
        target = _same_path(request, page=number, per_page=per_page)
        return f'<{target}>; rel="{rel}"'

    links = [link(page + 1, "next")] if page < last else []
    links.append(link(last, "last"))
    response["Link"] = ", ".join(links)
    return response


@api("GET")
def order_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    """One order, or 404."""
    for order in ORDERS:
        if order["id"] == order_id:
            return JsonResponse(order)
    return _error(404, "not_found", f"Order {order_id} does not exist.")


@api("GET")
def legacy_orders(request: HttpRequest) -> HttpResponse:
    """The old address of the order list: moved for good."""
    target = request.path.removesuffix("v1/orders") + "orders/page"
    if request.GET:
        target += "?" + request.GET.urlencode()
    return HttpResponse(status=301, headers={"Location": target})


# --- Sign-in --------------------------------------------------------------------------


@api("POST")
def oauth_token(request: HttpRequest) -> HttpResponse:
    """OAuth 2.0 client credentials grant (client id/secret: basic or body)."""
    if request.POST.get("grant_type") != "client_credentials":
        return JsonResponse(
            {
                "error": "unsupported_grant_type",
                "error_description": "Only client_credentials is supported.",
            },
            status=400,
        )
    client_id, secret = _basic(request)
    client_id = client_id or request.POST.get("client_id", "")
    secret = secret or request.POST.get("client_secret", "")
    if (client_id, secret) != (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET):
        return JsonResponse(
            {
                "error": "invalid_client",
                "error_description": "Client authentication failed.",
            },
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="sandbox"'},
        )
    token = signing.dumps({"client": client_id}, salt=_TOKEN_SALT)
    return JsonResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME},
        headers={"Cache-Control": "no-store"},
    )


def _basic(request: HttpRequest) -> tuple[str, str]:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def _caller(request: HttpRequest) -> str | None:
    """Who signed in, or None."""
    if request.headers.get("X-API-Key") == SANDBOX_API_KEY:
        return "api key"
    if _basic(request) == (SANDBOX_USER, SANDBOX_PASSWORD):
        return SANDBOX_USER
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    if token == SANDBOX_TOKEN:
        return "token"
    try:
        claims = signing.loads(token, salt=_TOKEN_SALT, max_age=TOKEN_LIFETIME)
    except signing.BadSignature:
        return None
    return str(claims["client"])


@api("GET")
def secure_orders(request: HttpRequest) -> HttpResponse:
    """The first five orders, for signed-in callers only."""
    caller = _caller(request)
    if caller is None:
        given = "Authorization" in request.headers or "X-API-Key" in request.headers
        message = (
            "The credentials are not valid or have expired."
            if given
            else "Sign in with a bearer token, an API key or a user name and password."
        )
        return _error(
            401,
            "unauthorized",
            message,
            {"WWW-Authenticate": 'Bearer realm="orders"'},
        )
    return JsonResponse({"caller": caller, "data": ORDERS[:5]})


# --- Failures -------------------------------------------------------------------------


@api("GET", "POST")
def busy(request: HttpRequest) -> HttpResponse:
    """Rate limited: try again in 7 seconds."""
    return _error(
        429,
        "rate_limited",
        "Too many requests: try again in 7 seconds.",
        {"Retry-After": "7"},
    )


@api("GET", "POST")
def broken(request: HttpRequest) -> HttpResponse:
    """An internal error."""
    return _error(500, "internal_error", "The order database is not available.")


@api("GET", "POST")
def maintenance(request: HttpRequest) -> HttpResponse:
    """Down for maintenance for two minutes."""
    return _error(
        503,
        "maintenance",
        "The order service is down for maintenance.",
        {"Retry-After": "120"},
    )


@api("GET")
def slow(request: HttpRequest) -> HttpResponse:
    """Answers after ``seconds`` (at most 10)."""
    seconds = _int(request, "seconds", 3, 0, 10)
    time.sleep(seconds)
    return JsonResponse({"status": "ok", "waited": seconds})


# --- Writing and downloading ----------------------------------------------------------


@api("POST", "PUT", "PATCH")
def echo(request: HttpRequest) -> HttpResponse:
    """What was sent: method, content type, query, and the body as JSON or text."""
    content_type = request.content_type or ""
    answer: dict[str, Any] = {
        "method": request.method,
        "content_type": content_type,
        "query": request.GET.dict(),
        "idempotency_key": request.headers.get("Idempotency-Key"),
        "json": None,
        "text": None,
    }
    if "json" in content_type:
        try:
            answer["json"] = json.loads(request.body or b"null")
        except ValueError:
            return _error(400, "bad_json", "The body is not valid JSON.")
    else:
        answer["text"] = request.body.decode("utf-8", errors="replace")
    return JsonResponse(answer)


SMS_NUMBER = re.compile(r"^\+[1-9]\d{7,14}$")


@api("POST")
def sms(request: HttpRequest) -> HttpResponse:
    """Queue one text message (nothing is sent: this is a sandbox)."""
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return _error(400, "bad_json", "The body is not valid JSON.")
    if not isinstance(body, dict):
        return _error(400, "bad_json", "The body must be a JSON object.")
    to, text = str(body.get("to") or ""), str(body.get("text") or "")
    if not SMS_NUMBER.match(to):
        return _error(
            422,
            "invalid_number",
            f"“{to}” is not a mobile number in international form, e.g. "
            "+4915123456789.",
        )
    if not text.strip() or len(text) > 1600:
        return _error(422, "invalid_text", "text must have 1 to 1600 characters.")
    seed = request.headers.get("Idempotency-Key") or f"{to}:{text}:{time.time_ns()}"
    return JsonResponse(
        {
            "id": "sms-" + hashlib.sha256(seed.encode()).hexdigest()[:16],
            "to": to,
            "status": "queued",
            "segments": -(-len(text) // 160),
        },
        status=201,
    )


@api("GET")
def document(request: HttpRequest, name: str) -> HttpResponse:
    """A text document named ``name``; ``?bytes=N`` makes it N bytes long."""
    line = f"Order confirmation {name}\n".encode()
    try:
        size = int(request.GET.get("bytes", len(line) * 100))
    except ValueError:
        return _error(400, "bad_request", "bytes must be a whole number.")
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Length": str(size),
    }

    def chunks() -> Iterator[bytes]:
        block = line * (65536 // len(line) + 1)
        left = size
        while left > 0:
            piece = block[: min(left, 65536)]
            left -= len(piece)
            yield piece

    return StreamingHttpResponse(
        chunks(), content_type="text/plain; charset=utf-8", headers=headers
    )


urlpatterns = [
    path("health", health, name="health"),
    path("orders/page", orders_page, name="orders-page"),
    path("orders/offset", orders_offset, name="orders-offset"),
    path("orders/cursor", orders_cursor, name="orders-cursor"),
    path("orders/next-link", orders_next_link, name="orders-next-link"),
    path("orders/link-header", orders_link_header, name="orders-link-header"),
    path("orders/<str:order_id>", order_detail, name="order"),
    path("v1/orders", legacy_orders, name="legacy-orders"),
    path("oauth/token", oauth_token, name="oauth-token"),
    path("secure/orders", secure_orders, name="secure-orders"),
    path("busy", busy, name="busy"),
    path("broken", broken, name="broken"),
    path("maintenance", maintenance, name="maintenance"),
    path("slow", slow, name="slow"),
    path("echo", echo, name="echo"),
    path("sms/messages", sms, name="sms"),
    path("documents/<str:name>", document, name="document"),
]
