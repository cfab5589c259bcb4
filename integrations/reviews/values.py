"""The fields a review task asks for, and the values a reviewer gives.

A task's ``needed["fields"]`` maps each field to its JSON Schema (from the
action's input schema). ``form_fields`` turns them into form fields, and
``form_values`` reads a posted form back; ``validate_values`` checks values,
from the form or the API, against the schemas: one rule for both.
"""

from __future__ import annotations

import json
from typing import Any

from integrations.reviews.errors import InvalidValues

REQUIRED = "Fill this in: the run cannot go on without it."


def needed_fields(needed: dict[str, Any]) -> dict[str, Any]:
    """``needed["fields"]`` in the order the step's input lists them.

    PostgreSQL's jsonb does not keep the order of an object's keys, so the
    order is stored beside them (``needed["order"]``); tasks that do not
    have it list their fields alphabetically, the same on every database.
    """
    fields = needed.get("fields") or {}
    order = [name for name in needed.get("order") or [] if name in fields]
    rest = sorted(name for name in fields if name not in order)
    return {name: fields[name] for name in [*order, *rest]}


def validate_values(fields: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The values, typed by their fields' JSON schemas; ``InvalidValues``
    with a message per field otherwise."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, schema in fields.items():
        schema = schema if isinstance(schema, dict) else {}
        value = values.get(name)
        if isinstance(value, str) and field_kind(schema) != "string":
            value = value.strip()
        if (
            value is None
            or value == ""
            or (isinstance(value, str) and not value.strip())
        ):
            if field_required(schema):
                errors[name] = REQUIRED
            continue
        try:
            clean[name] = typed_value(schema, value)
        except ValueError as error:
            errors[name] = str(error)
    unknown = sorted(set(values) - set(fields))
    for name in unknown:
        errors[name] = "This step does not need this field."
    if errors:
        raise InvalidValues(errors)
    return clean


def field_kind(schema: dict[str, Any]) -> str:
    """The JSON type a field holds ("string", "integer", …, or "enum")."""
    kind = schema.get("type")
    if kind is None:
        for option in schema.get("anyOf") or schema.get("oneOf") or []:
            if isinstance(option, dict) and option.get("type") not in (None, "null"):
                return str(option["type"])
        return "string" if "enum" not in schema else "enum"
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), "string")
    return str(kind)


def field_required(schema: dict[str, Any]) -> bool:
    """A needed field must be filled unless its schema allows null."""
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        return False
    options = schema.get("anyOf") or schema.get("oneOf") or []
    return not any(
        isinstance(option, dict) and option.get("type") == "null" for option in options
    )


def field_choices(schema: dict[str, Any]) -> list[Any] | None:
    """The values a field may take, when its schema lists them."""
    if "enum" in schema:
        return list(schema["enum"])
    for option in schema.get("anyOf") or schema.get("oneOf") or []:
        if isinstance(option, dict) and "enum" in option:
            return list(option["enum"])
    return None


def typed_value(schema: dict[str, Any], value: Any) -> Any:
    """``value`` as its field's type (text from a form becomes a number or
    yes/no); ``ValueError`` with what to enter otherwise."""
    kind = field_kind(schema)
    if kind == "integer":
        if isinstance(value, bool):
            raise ValueError("Enter a whole number, like 42.")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise ValueError("Enter a whole number, like 42.") from None
        if not isinstance(value, int):
            raise ValueError("Enter a whole number, like 42.")
    elif kind == "number":
        if isinstance(value, bool):
            raise ValueError("Enter a number, like 12.50.")
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError("Enter a number, like 12.50.") from None
            if value.is_integer():
                value = int(value)
        if not isinstance(value, int | float):
            raise ValueError("Enter a number, like 12.50.")
    elif kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "on", "yes", "1"):
            value = True
        elif isinstance(value, str) and value.lower() in ("false", "off", "no", "0"):
            value = False
        if not isinstance(value, bool):
            raise ValueError("Choose yes or no.")
    elif kind == "string":
        if not isinstance(value, str):
            raise ValueError("Enter text.")
        limit = schema.get("maxLength")
        if isinstance(limit, int) and len(value) > limit:
            raise ValueError(f"Use at most {limit} characters.")
    elif kind == "object" and not isinstance(value, dict):
        raise ValueError("Enter an object (JSON).")
    elif kind == "array" and not isinstance(value, list):
        raise ValueError("Enter a list (JSON).")
    choices = field_choices(schema)
    if choices is not None and value not in choices:
        raise ValueError(
            "Choose one of " + ", ".join(str(choice) for choice in choices) + "."
        )
    return value


# --- The form --------------------------------------------------------------------


def form_fields(
    fields: dict[str, Any],
    known: dict[str, Any],
    posted: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One form field per needed field, from its JSON Schema, filled with the
    ``posted`` values (after a refusal) or else what the run ``known``s."""
    shown = []
    for name, schema in fields.items():
        schema = schema if isinstance(schema, dict) else {}
        kind = field_kind(schema)
        choices = field_choices(schema)
        if posted is not None:
            value: Any = posted.get(name, "")
        else:
            value = known.get(name, schema.get("default", ""))
        if kind == "boolean":
            widget = "checkbox"
            checked = (
                value in (True, "on", "true", "1")
                if posted is None
                else posted.get(name) == "on"
            )
        else:
            widget = (
                "select"
                if choices
                else ("number" if kind in ("integer", "number") else "text")
            )
            checked = False
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        shown.append(
            {
                "name": name,
                "id": f"field-{name}",
                "label": schema.get("title") or name.replace("_", " ").capitalize(),
                "help": schema.get("description", ""),
                "widget": widget,
                "step": "1" if kind == "integer" else "any",
                "options": [str(option) for option in choices or []],
                "value": "" if value is None else str(value),
                "checked": checked,
                "required": field_required(schema) and widget != "checkbox",
                "max_length": schema.get("maxLength"),
                "error": (errors or {}).get(name, ""),
            }
        )
    return shown


def form_values(
    fields: dict[str, Any], posted: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted form as values for ``validate_values``: a checkbox left
    unticked is "no", objects and lists are read as JSON, the rest stays
    text for ``validate_values`` to type; (values, what could not be read)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, schema in fields.items():
        kind = field_kind(schema if isinstance(schema, dict) else {})
        raw = posted.get(name, "")
        if kind == "boolean":
            values[name] = raw == "on"
        elif kind in ("object", "array") and raw.strip():
            try:
                values[name] = json.loads(raw)
            except ValueError:
                errors[name] = "Enter the value as JSON."
        else:
            values[name] = raw
    return values, errors
