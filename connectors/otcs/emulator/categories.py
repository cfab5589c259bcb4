"""Categories: apply, update, read and remove them on a node.

Keys are ``{catId}_{attrId}`` (``{catId}_1`` is the category itself, so
``{"9830_1": {}}`` applies it with defaults); set rows are
``{catId}_{setId}_{row}_{attrId}``; multi-value attributes take arrays.
Values are checked against the definition: an unknown attribute or a value of
the wrong type is a 400 naming the key.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from connectors.otcs.emulator.responses import ApiError, integer, otcs, params
from connectors.sandbox.models import OtcsCategory, OtcsCategoryValue, OtcsNode

_KEY = re.compile(r"^(\d+)_(\d+)(?:_(\d+)_(\d+))?$")


def category(category_id: int) -> OtcsCategory:
    """The definition, or a 400 as for any unknown object."""
    found = OtcsCategory.objects.filter(id=category_id).first()
    if found is None:
        raise ApiError(400, f"Could not get a category for {category_id}")
    return found


def _check(attribute: dict[str, Any], key: str, value: Any) -> Any:
    if attribute.get("multi"):
        items = value if isinstance(value, list) else [value]
        return [_scalar(attribute, key, item) for item in items if item is not None]
    if isinstance(value, list):
        raise ApiError(400, f"Attribute {key} takes a single value, not a list.")
    return _scalar(attribute, key, value)


def _scalar(attribute: dict[str, Any], key: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    kind = attribute["type"]
    if kind == "integer":
        if isinstance(value, bool):
            raise ApiError(400, f"Attribute {key} must be a whole number.")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Attribute {key} must be a whole number.") from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"true", "1"}
    if kind == "date":
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, f"Attribute {key} must be a date.") from None
        return str(value)
    if not isinstance(value, str | int | float):
        raise ApiError(400, f"Attribute {key} must be text.")
    return str(value)


def validate(definition: OtcsCategory, values: dict[str, Any]) -> dict[str, Any]:
    """The values whose keys belong to ``definition``, checked and normalised.

    Keys of other categories and ``{catId}_1`` are left out; an attribute the
    definition lacks is a 400.
    """
    attributes = {item["id"]: item for item in definition.attributes}
    checked: dict[str, Any] = {}
    for key, value in values.items():
        match = _KEY.match(str(key))
        if match is None or int(match.group(1)) != definition.id:
            continue
        first = int(match.group(2))
        if match.group(3) is None:
            if first == 1:
                continue
            attribute = attributes.get(first)
            if attribute is None or attribute["type"] == "set":
                raise ApiError(
                    400, f"Attribute {key} is not part of category {definition.id}."
                )
        else:
            group = attributes.get(first)
            row, inner = int(match.group(3)), int(match.group(4))
            members = {item["id"]: item for item in (group or {}).get("attributes", [])}
            attribute = members.get(inner)
            if group is None or group["type"] != "set" or attribute is None:
                raise ApiError(
                    400, f"Attribute {key} is not part of category {definition.id}."
                )
            if row < 1:
                raise ApiError(400, f"Attribute {key}: set rows start at 1.")
        checked[str(key)] = _check(attribute, str(key), value)
    return checked


def defaults(definition: OtcsCategory) -> dict[str, Any]:
    """Every attribute of ``definition`` empty (the first row of each set)."""
    empty: dict[str, Any] = {}
    for item in definition.attributes:
        key = f"{definition.id}_{item['id']}"
        if item["type"] == "set":
            for row in range(1, int(item.get("rows", 1)) + 1):
                for inner in item["attributes"]:
                    empty[f"{key}_{row}_{inner['id']}"] = [] if inner["multi"] else None
        else:
            empty[key] = [] if item["multi"] else None
    return empty


def apply(node: OtcsNode, category_id: int, values: dict[str, Any]) -> None:
    """Apply a category with ``values``; a 400 if it is already applied."""
    definition = category(category_id)
    checked = validate(definition, values)
    if OtcsCategoryValue.objects.filter(node=node, category=definition).exists():
        raise ApiError(
            400, f"Category {category_id} is already applied to node {node.id}."
        )
    OtcsCategoryValue.objects.create(
        node=node, category=definition, values={**defaults(definition), **checked}
    )


def apply_roles(node: OtcsNode, categories: Any, nested: bool) -> None:
    """``roles.categories`` of a create call: flat in v2, nested in v1."""
    if not categories:
        return
    if not isinstance(categories, dict):
        raise ApiError(400, "roles.categories must be an object.")
    grouped: dict[int, dict[str, Any]] = {}
    if nested:
        for category_id, values in categories.items():
            grouped[integer(category_id, "roles.categories")] = dict(values or {})
    else:
        for key, value in categories.items():
            match = _KEY.match(str(key))
            if match is None:
                raise ApiError(400, f"Invalid category attribute key {key}.")
            grouped.setdefault(int(match.group(1)), {})[str(key)] = value
    for category_id, values in grouped.items():
        apply(node, category_id, values)


def read(node: OtcsNode) -> list[dict[str, Any]]:
    """The v2 ``results`` of ``GET nodes/{id}/categories`` (pyxecm's shape)."""
    results = []
    for applied in OtcsCategoryValue.objects.filter(node=node).select_related(
        "category"
    ):
        definition = applied.category
        metadata: dict[str, Any] = {
            str(definition.id): {
                "key": str(definition.id),
                "name": definition.name,
                "persona": "category",
                "type": -18,
            }
        }
        for item in definition.attributes:
            key = f"{definition.id}_{item['id']}"
            metadata[key] = _attribute_metadata(key, item)
            for inner in item.get("attributes", []):
                inner_key = f"{key}_x_{inner['id']}"
                metadata[inner_key] = _attribute_metadata(inner_key, inner)
        results.append(
            {
                "data": {"categories": dict(applied.values)},
                "metadata": metadata,
                "metadata_map": {"categories": {str(definition.id): []}},
            }
        )
    return results


def _attribute_metadata(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": key,
        "name": item["name"],
        "type_name": item["type"],
        "persona": "set" if item["type"] == "set" else "",
        "multi_value": bool(item.get("multi")),
    }


def _node(node_id: int) -> OtcsNode:
    found = OtcsNode.objects.filter(id=node_id).first()
    if found is None:
        raise ApiError(400, f"Could not get a node for {node_id}")
    return found


def _links(request: HttpRequest) -> dict[str, Any]:
    return {"data": {"self": {"body": "", "content_type": "", "href": request.path}}}


@otcs("GET", "POST")
def node_categories(request: HttpRequest, node_id: int, user_id: int) -> HttpResponse:
    """``GET``: the categories on a node; ``POST``: apply one."""
    node = _node(node_id)
    if request.method == "GET":
        return JsonResponse({"links": _links(request), "results": read(node)})
    values = params(request)
    category_id = integer(values.get("category_id"), "category_id")
    with transaction.atomic():
        apply(node, category_id, values)
        node.modify_date = timezone.now()
        node.save(update_fields=["modify_date"])
    return JsonResponse({"links": _links(request), "results": {}})


@otcs("GET", "PUT", "DELETE")
def node_category(
    request: HttpRequest, node_id: int, category_id: int, user_id: int
) -> HttpResponse:
    """Read, update or remove one category of a node."""
    node = _node(node_id)
    definition = category(category_id)
    applied = OtcsCategoryValue.objects.filter(node=node, category=definition).first()
    if applied is None:
        raise ApiError(400, f"Category {category_id} is not applied to node {node_id}.")
    if request.method == "GET":
        return JsonResponse(
            {
                "links": _links(request),
                "results": {"data": {"categories": applied.values}},
            }
        )
    with transaction.atomic():
        if request.method == "DELETE":
            applied.delete()
        else:
            applied.values = {**applied.values, **validate(definition, params(request))}
            applied.save(update_fields=["values"])
        node.modify_date = timezone.now()
        node.save(update_fields=["modify_date"])
    return JsonResponse({"links": _links(request), "results": {}})
