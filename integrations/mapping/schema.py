"""Check a mapped output against a pydantic `model_json_schema()` dict.

Only what a mapping can get wrong is checked — missing required fields,
types, enum/const, unknown fields, nested objects — and in words a business
user understands.  Formats, patterns and bounds are left to pydantic, which
validates the input again inside the connector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from integrations.mapping.errors import describe, listing, quote

_EXPECTED = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a group of fields",
    "array": "a list",
    "null": "empty",
}


@dataclass(frozen=True)
class Problem:
    """A problem at a dotted field path ("customer.address.city")."""

    path: str
    message: str


def validate(output: Mapping, schema: Mapping) -> list[Problem]:
    """Every problem of `output` against `schema`; [] when it conforms."""
    problems: list[Problem] = []
    _check(output, schema, schema, "", problems)
    return problems


def unknown_field(schema: Mapping, target: str) -> str:
    """The first part of `target` the schema forbids, or "" when all are allowed.

    Walks the dotted target through nested object schemas so that
    "customer.nickname" is caught when the customer model forbids extras.
    """
    node: Mapping | None = schema
    names = target.split(".")
    for depth, name in enumerate(names):
        node = _object_branch(_resolve(node, schema), schema)
        if node is None:
            return ""
        properties = node.get("properties", {})
        if name not in properties:
            forbidden = node.get("additionalProperties") is False
            return ".".join(names[: depth + 1]) if forbidden else ""
        node = properties[name]
    return ""


def unfilled_required(schema: Mapping, targets: Sequence[str]) -> list[Problem]:
    """Required fields (without a default) that no target fills.

    Nested objects (required or not) are followed when rules fill them field
    by field; a rule that fills the whole object answers for its inside.
    """
    return _unfilled(schema, schema, targets, "")


def _unfilled(
    node: Mapping, root: Mapping, targets: Sequence[str], prefix: str
) -> list[Problem]:
    node = _object_branch(_resolve(node, root), root)
    if node is None:
        return []
    problems = []
    properties = node.get("properties", {})
    required = node.get("required", [])
    for name in dict.fromkeys([*required, *properties]):
        path = f"{prefix}{name}"
        field_schema = _resolve(properties.get(name, {}), root)
        inner = [target for target in targets if target.startswith(f"{path}.")]
        if inner:
            problems += _unfilled(field_schema, root, inner, f"{path}.")
        elif name in required and path not in targets and "default" not in field_schema:
            problems.append(Problem(path, required_message(path)))
    return problems


def required_message(path: str) -> str:
    return f"The field “{path}” is required but no rule fills it."


def _check(
    value: Any, node: Mapping, root: Mapping, path: str, problems: list[Problem]
) -> None:
    node = _resolve(node, root)
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        _check_branches(value, branches, root, path, problems)
        return
    for part in node.get("allOf", ()):
        _check(value, part, root, path, problems)
    message = _value_message(value, node)
    if message:
        problems.append(Problem(path, f"The field “{path}” {message}."))
    elif isinstance(value, Mapping):
        _check_object(value, node, root, path, problems)


def _value_message(value: Any, node: Mapping) -> str:
    """What is wrong with the value itself (not its fields), or ""."""
    if "const" in node and not _same(value, node["const"]):
        return f"must be {quote(node['const'])}, not {quote(value)}"
    if "enum" in node and not any(_same(value, item) for item in node["enum"]):
        return f"must be one of {listing(node['enum'])}, not {quote(value)}"
    types = _types(node)
    if types and not any(_is_type(value, name) for name in types):
        expected = " or ".join(_EXPECTED.get(name, name) for name in types)
        if value is None:
            return f"must be {expected}, but it has no value"
        return f"must be {expected}, not {describe(value)}"
    return ""


def _check_branches(
    value: Any,
    branches: Sequence[Mapping],
    root: Mapping,
    path: str,
    problems: list[Problem],
) -> None:
    """Valid if any branch accepts the value.

    Otherwise report the problems of the first branch of the value's own type
    (the `Customer` in `Customer | None`), or one message naming all
    acceptable kinds.
    """
    outcomes = []
    for branch in branches:
        found: list[Problem] = []
        _check(value, branch, root, path, found)
        if not found:
            return
        outcomes.append((branch, found))
    for branch, found in outcomes:
        types = _types(_resolve(branch, root))
        if any(_is_type(value, name) for name in types):
            problems.extend(found)
            return
    expected = " or ".join(_expected(_resolve(branch, root)) for branch in branches)
    problems.append(
        Problem(path, f"The field “{path}” must be {expected}, not {describe(value)}.")
    )


def _expected(node: Mapping) -> str:
    if "const" in node:
        return quote(node["const"])
    if "enum" in node:
        return f"one of {listing(node['enum'])}"
    return " or ".join(_EXPECTED.get(name, name) for name in _types(node)) or "any"


def _check_object(
    value: Mapping, node: Mapping, root: Mapping, path: str, problems: list[Problem]
) -> None:
    prefix = f"{path}." if path else ""
    properties = node.get("properties", {})
    extra = node.get("additionalProperties", True)
    for name in node.get("required", ()):
        if name not in value:
            problems.append(Problem(prefix + name, required_message(prefix + name)))
    for name, item in value.items():
        field_path = f"{prefix}{name}"
        if name in properties:
            _check(item, properties[name], root, field_path, problems)
        elif extra is False:
            problems.append(
                Problem(
                    field_path,
                    f"The field “{field_path}” is not an input of this action.",
                )
            )
        elif isinstance(extra, Mapping):
            _check(item, extra, root, field_path, problems)


def _resolve(node: Mapping, root: Mapping) -> Mapping:
    """Follow "$ref" ("#/$defs/Name") into the root; siblings of $ref win."""
    seen: set[str] = set()
    while "$ref" in node and node["$ref"] not in seen:
        reference = node["$ref"]
        seen.add(reference)
        target: Any = root
        for part in reference.lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _object_branch(node: Mapping, root: Mapping) -> Mapping | None:
    """The object schema inside `node`, looking through anyOf (Optional)."""
    if "properties" in node or "object" in _types(node):
        return node
    for branch in node.get("anyOf") or node.get("oneOf") or ():
        found = _object_branch(_resolve(branch, root), root)
        if found is not None:
            return found
    return None


def _types(node: Mapping) -> list[str]:
    declared = node.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _is_type(value: Any, name: str) -> bool:
    """JSON Schema types: a bool is not a number; 3.0 is an integer."""
    if isinstance(value, bool):
        return name == "boolean"
    match name:
        case "string":
            return isinstance(value, str)
        case "integer":
            return isinstance(value, int) or (
                isinstance(value, float) and value.is_integer()
            )
        case "number":
            return isinstance(value, int | float)
        case "object":
            return isinstance(value, Mapping)
        case "array":
            return isinstance(value, list | tuple)
        case "null":
            return value is None
    return False


def _same(value: Any, expected: Any) -> bool:
    """Equality that does not take True for 1."""
    return value == expected and isinstance(value, bool) == isinstance(expected, bool)
