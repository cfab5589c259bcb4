"""Walking the pages of a REST API answer, and finding values in JSON bodies.

Strategies: ``page`` (page number + page size), ``offset`` (offset +
count), ``cursor`` (an opaque cursor read from each body), ``next_link``
(the next page's URL read from each body) and ``link_header`` (RFC 8288
``Link: <...>; rel="next"``). Every strategy stops at an empty or short
page, a missing cursor or link, a repeated cursor or link, or ``max_pages``.
Page links are only followed on the host of the first page, so a
compromised or careless API cannot send the connection's credentials
elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

import orjson
import requests
from pydantic import BaseModel, ConfigDict, Field

from connectors.errors import PermanentError
from connectors.http.client import HttpClient
from connectors.http.safety import parse_target, redact_url

MISSING: Any = object()
_INDEX = re.compile(r"\[(\d+)\]")


def dig(value: Any, path: str) -> Any:
    """The value at a dotted path: ``data.items``, ``items.0.id``,
    ``items[0].id`` or ``$.data.items``. MISSING when there is none; an
    empty path (or ``$``) is the value itself."""
    path = _INDEX.sub(r".\1", path.strip()).removeprefix("$").strip(".")
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(value) <= index < len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
    return value


def parse_body(response: requests.Response) -> Any:
    """The body as JSON when it is JSON, else as text; None when empty."""
    if not response.content:
        return None
    content_type = response.headers.get("Content-Type", "").lower()
    looks_like_json = response.content.lstrip()[:1] in (b"{", b"[")
    if "json" in content_type or (looks_like_json and "html" not in content_type):
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass
    return response.text


class Pagination(BaseModel):
    """How to get every page of an answer."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal[
        "none", "page", "offset", "cursor", "next_link", "link_header"
    ] = Field("none", title="Pagination")
    items_path: str = Field(
        "",
        title="Items path",
        description="Dotted path to the list of items in each page, e.g. data "
        "or result.items; empty when the body is the list.",
    )
    max_pages: int = Field(100, ge=1, le=1000, title="At most this many pages")
    page_size: int = Field(100, ge=1, le=10_000, title="Items per page")
    page_param: str = Field("page", title="Page number parameter")
    first_page: int = Field(1, ge=0, title="Number of the first page")
    limit_param: str = Field("limit", title="Page size parameter (page strategy)")
    offset_param: str = Field("offset", title="Offset parameter")
    count_param: str = Field("count", title="Count parameter (offset strategy)")
    cursor_param: str = Field("cursor", title="Cursor parameter")
    cursor_path: str = Field("next_cursor", title="Path to the next cursor in the body")
    next_link_path: str = Field("next", title="Path to the next page URL in the body")


@dataclass
class Pages:
    """Everything the pages returned."""

    status: int = 0
    items: list[Any] = field(default_factory=list)
    body: Any = None
    pages: int = 0
    truncated: bool = False


def fetch_pages(
    client: HttpClient,
    method: str,
    path: str,
    pagination: Pagination,
    *,
    query: Mapping[str, Any],
    **request: Any,
) -> Pages:
    """Call ``path`` and the pages after it; ``request`` goes to every call."""
    spec = pagination
    url = client.url(path)
    params: dict[str, Any] = dict(query)
    if spec.strategy == "page":
        params.update(
            {spec.page_param: spec.first_page, spec.limit_param: spec.page_size}
        )
    elif spec.strategy == "offset":
        params.update({spec.offset_param: 0, spec.count_param: spec.page_size})
    result = Pages()
    seen: set[str] = set()
    origin = None
    while True:
        response = client.request(method, url, params=params, **request)
        origin = origin or parse_target(response.url)
        result.status, result.body = response.status_code, parse_body(response)
        result.pages += 1
        page_items = _items(result.body, spec, result.pages)
        result.items.extend(page_items)
        following = _next(spec, response, result.body, params, page_items)
        if following is None:
            return result
        next_url, next_params = following
        if next_url is not None:
            next_url = urljoin(response.url, next_url)
            _same_host(next_url, origin)
        marker = f"{next_url or url}?{sorted(next_params.items())}"
        if marker in seen:
            return result
        seen.add(marker)
        if result.pages >= spec.max_pages:
            result.truncated = True
            return result
        url, params = next_url or url, next_params


def _items(body: Any, spec: Pagination, page: int) -> list[Any]:
    found = dig(body, spec.items_path)
    if isinstance(found, list):
        return found
    if spec.strategy == "none" and not spec.items_path:
        return []
    where = f"“{spec.items_path}”" if spec.items_path else "The body"
    raise PermanentError(
        f"{where} is not a list of items in page {page} of the answer: check "
        "the items path of the step.",
    )


def _next(
    spec: Pagination,
    response: requests.Response,
    body: Any,
    params: dict[str, Any],
    items: list[Any],
) -> tuple[str | None, dict[str, Any]] | None:
    """The URL (None: the same) and parameters of the next page, or None."""
    strategy = spec.strategy
    if strategy == "page":
        if len(items) < spec.page_size:
            return None
        return None, {**params, spec.page_param: params[spec.page_param] + 1}
    if strategy == "offset":
        if len(items) < spec.page_size:
            return None
        offset = params[spec.offset_param] + len(items)
        return None, {**params, spec.offset_param: offset}
    if strategy == "cursor":
        cursor = dig(body, spec.cursor_path)
        if cursor is MISSING or cursor in (None, ""):
            return None
        return None, {**params, spec.cursor_param: cursor}
    if strategy == "next_link":
        link = dig(body, spec.next_link_path)
        if link is MISSING or not link:
            return None
        if not isinstance(link, str):
            raise PermanentError(
                f"“{spec.next_link_path}” is not a link in the answer: check the "
                "next page path of the step."
            )
        return link, {}
    if strategy == "link_header":
        link = response.links.get("next", {}).get("url")
        return (link, {}) if link else None
    return None


def _same_host(url: str, origin: Any) -> None:
    target = parse_target(url)
    if target != origin:
        raise PermanentError(
            f"The next page is on {target.host_port}, not on {origin.host_port}: "
            "xConnector only follows page links to the host of the first page.",
            detail=redact_url(url),
        )
