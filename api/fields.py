"""Input fields and helpers every API module shares.

Inputs are strict: a field documented as a string takes only a string, an
integer only an integer (DRF would turn 5 into "5" and "5" into 5), so
that what the schema says is exactly what the API accepts.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

MAX_ID = 2**63 - 1  # the largest id the database holds: larger ones are 400
ID = "[0-9]{1,18}"  # an id in a path: SQLite and PostgreSQL hold 63 bits


class JsonInteger(serializers.IntegerField):
    """A JSON number without a fraction: not "5", not 5.5, not true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class JsonText(serializers.CharField):
    """A JSON string: a number is not text here."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Flag(serializers.BooleanField):
    """``true`` or ``false``, not "yes" or 1."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def enum_of(choices: Any, name: str) -> type[serializers.ChoiceField]:
    """A choice field class shown in the schema as the enum component ``name``
    (one name per set of choices: "status" means different things here).
    ``choices``: a ``TextChoices`` class or a list of values."""
    values = list(getattr(choices, "values", choices))
    schema = {"type": "integer" if isinstance(values[0], int) else "string"}
    field = type(f"{name}Field", (serializers.ChoiceField,), {})
    return extend_schema_field({**schema, "enum": values}, component_name=name)(field)


def query_params(request: Request, serializer: type[serializers.Serializer]) -> Any:
    """The query string checked by ``serializer``; a 400 names each bad one.
    A plain dict, so that an empty value is a value (``?status=`` is not a
    status) rather than an absent one."""
    data = serializer(data=request.query_params.dict())
    data.is_valid(raise_exception=True)
    return data.validated_data
