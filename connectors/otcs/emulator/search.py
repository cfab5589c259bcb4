"""``POST api/v2/search``: a subset of the Livelink Query Language (LQL).

Supported (terms joined with ``AND``; ``OR``/``NOT`` are a 400):

- ``OTName:"Invoice*"``: ``*`` and ``?`` wildcards, case-insensitive.
- ``OTSubType:144``.
- ``OTModifyDate:[2025-01-01T00:00:00Z TO *]``, also ``OTCreateDate`` and
  ``OTObjectDate`` (an alias of the modify date here); bounds are inclusive,
  ``*`` is open. [I] Real LQL date syntax varies by version (``[qlrange ...]``,
  ``YYYYMMDD``); the emulator accepts ISO dates and times and ``YYYYMMDD``.
- ``OTParentID:2000``, ``OTLocation:2000`` (anywhere below that node), and
  ``OTObject:12345``.
- Category values: ``Attr_9830_2:"INV-1"`` [I: Content Server names the
  search region of a category attribute ``Attr_{catId}_{attrId}``; the exact
  region names depend on the index configuration], and the same written as
  ``"9830_2":"INV-1"``. Multi-value attributes match when any value matches;
  set attributes are written ``Attr_9830_5_6`` (any row).
- Bare words (no region) match the name, by ``lookfor`` (``allwords``,
  ``anywords``, ``exactphrase``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse

from connectors.otcs.emulator.nodes import links, page_and_limit, paged, properties
from connectors.otcs.emulator.responses import ApiError, integer, otcs, params
from connectors.sandbox.models import OtcsCategoryValue, OtcsNode

_TERM = re.compile(
    r'^(?:"(?P<qregion>[^"]+)"|(?P<region>[A-Za-z_][\w]*))\s*:\s*(?P<value>.+)$'
)
_RANGE = re.compile(r"^[\[{]\s*(?P<low>\S+)\s+TO\s+(?P<high>\S+)\s*[\]}]$")
_ATTRIBUTE = re.compile(r"^(?:Attr_)?(\d+)_(\d+)(?:_(\d+))?$")
_DATES = {
    "OTModifyDate": "modify_date",
    "OTObjectDate": "modify_date",
    "OTCreateDate": "create_date",
}
_SORTS = {
    "OTName": "name",
    "OTObjectDate": "modify_date",
    "OTModifyDate": "modify_date",
    "OTCreateDate": "create_date",
    "OTObjectSize": "size",
}


def _split(where: str) -> list[str]:
    """The ``AND``-joined terms, respecting quotes and brackets."""
    terms, current, quoted, depth = [], "", False, 0
    tokens = re.split(r"(\s+)", where.strip())
    for piece in tokens:
        if not quoted and depth == 0 and piece == "AND":
            terms.append(current.strip())
            current = ""
            continue
        if not quoted and depth == 0 and piece in {"OR", "NOT"}:
            raise ApiError(400, f"The sandbox search does not support {piece}.")
        quoted ^= piece.count('"') % 2 == 1
        depth += piece.count("[") + piece.count("{")
        depth -= piece.count("]") + piece.count("}")
        current += piece
    if current.strip():
        terms.append(current.strip())
    return [term for term in terms if term]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = (
        ".*" if char == "*" else "." if char == "?" else re.escape(char)
        for char in pattern
    )
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE)


def _moment(text: str) -> datetime | None:
    text = _unquote(text)
    if text == "*":
        return None
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Invalid date in search query: {text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _attribute_filter(
    match: re.Match[str], value: str
) -> Callable[[dict[str, Any]], bool]:
    category, attribute, inner = match.groups()
    pattern = _wildcard(_unquote(value))
    if inner is None:
        keys = re.compile(rf"^{category}_{attribute}$")
    else:
        keys = re.compile(rf"^{category}_{attribute}_\d+_{inner}$")

    def test(values: dict[str, Any]) -> bool:
        for key, stored in values.items():
            if not keys.match(key):
                continue
            items = stored if isinstance(stored, list) else [stored]
            if any(item is not None and pattern.match(str(item)) for item in items):
                return True
        return False

    return test


def _descendants(root: int) -> set[int]:
    found, frontier = {root}, [root]
    while frontier:
        frontier = list(
            OtcsNode.objects.filter(parent_id__in=frontier).values_list("id", flat=True)
        )
        found.update(frontier)
    return found


def _bare(words: str, lookfor: str) -> Q:
    text = _unquote(words)
    if lookfor == "exactphrase":
        return Q(name__icontains=text)
    parts = [Q(name__icontains=word) for word in text.split()]
    combined = Q()
    for part in parts:
        combined = combined | part if lookfor == "anywords" else combined & part
    return combined


def run(where: str, lookfor: str) -> list[OtcsNode]:
    """The nodes matching ``where`` (unsorted)."""
    query = Q(parent__isnull=False)
    attribute_tests: list[tuple[int, Callable[[dict[str, Any]], bool]]] = []
    for term in _split(where):
        found = _TERM.match(term)
        if found is None:
            query &= _bare(term, lookfor)
            continue
        region = found.group("qregion") or found.group("region")
        value = found.group("value").strip()
        if region == "OTName":
            regex = _wildcard(_unquote(value)).pattern
            query &= Q(name__iregex=regex)
        elif region == "OTSubType":
            query &= Q(type=integer(_unquote(value), "OTSubType"))
        elif region in {"OTParentID", "OTObject"}:
            field = "parent_id" if region == "OTParentID" else "id"
            query &= Q(**{field: integer(_unquote(value), region)})
        elif region == "OTLocation":
            query &= Q(id__in=_descendants(integer(_unquote(value), region)))
        elif region in _DATES:
            bounds = _RANGE.match(value)
            if bounds is None:
                raise ApiError(400, f"{region} takes a range: [from TO to].")
            low, high = _moment(bounds["low"]), _moment(bounds["high"])
            if low is not None:
                query &= Q(**{f"{_DATES[region]}__gte": low})
            if high is not None:
                query &= Q(**{f"{_DATES[region]}__lte": high})
        elif attribute := _ATTRIBUTE.match(region):
            attribute_tests.append(
                (int(attribute.group(1)), _attribute_filter(attribute, value))
            )
        else:
            raise ApiError(400, f"The sandbox search does not know region {region}.")
    for category_id, test in attribute_tests:
        matching = [
            applied.node_id
            for applied in OtcsCategoryValue.objects.filter(category_id=category_id)
            if test(applied.values)
        ]
        query &= Q(id__in=matching)
    return list(OtcsNode.objects.filter(query))


def _sorted(nodes: list[OtcsNode], sort: str) -> list[OtcsNode]:
    if not sort or sort == "relevance":
        return sorted(nodes, key=lambda node: node.id)
    direction, _, region = sort.partition("_")
    field = _SORTS.get(region)
    if direction not in {"asc", "desc"} or field is None:
        raise ApiError(400, f"Invalid value for parameter sort: {sort}.")
    return sorted(
        nodes,
        key=lambda node: (getattr(node, field), node.id),
        reverse=direction == "desc",
    )


def _location(node: OtcsNode) -> str:
    names, cursor = [], node.parent
    while cursor is not None:
        names.append(cursor.name)
        cursor = cursor.parent
    return ":".join(reversed(names))


@otcs("GET", "POST")
def search(request: HttpRequest, user_id: int) -> HttpResponse:
    """Run a query; one page of results in the documented envelope."""
    values = {**request.GET.dict(), **params(request)}
    where = str(values.get("where") or "").strip()
    if not where:
        raise ApiError(400, "Argument where is required.")
    lookfor = str(values.get("lookfor") or "complexquery")
    if values.get("location_id1"):
        location = integer(values["location_id1"], "location_id1")
        where = f"{where} AND OTLocation:{location}"
    page, limit = page_and_limit(values)
    sort = str(values.get("sort") or "")
    found = _sorted(run(where, lookfor), sort)
    items = found[(page - 1) * limit : page * limit]
    paging = paged(request, items, page, limit, len(found))
    paging["result_header_string"] = (
        f"Results {paging['range_min']} to {paging['range_max']} of {len(found)}"
    )
    return JsonResponse(
        {
            "collection": {
                "paging": paging,
                "searching": {"cache_id": 1, "result_title": "Search Results"},
                "sorting": {"sort": [{"key": "sort", "value": sort or "relevance"}]},
            },
            "links": links(request),
            "results": [
                {
                    "data": {
                        "properties": properties(node),
                        "regions": {
                            "OTName": node.name,
                            "OTLocation": _location(node),
                            "OTSubType": node.type,
                        },
                    },
                    "links": {},
                }
                for node in items
            ],
        }
    )
