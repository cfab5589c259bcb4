"""JSON bodies, refused in words when they hold a NUL character.

PostgreSQL cannot store U+0000 in text or jsonb; without this check a run
payload or a task's values holding one would fail deep inside a save.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JsonWithoutNul(JSONParser):
    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if _holds_nul(data):
            raise ParseError(
                "The request holds a NUL character (\\u0000), which no field "
                "may contain: remove it and send the request again."
            )
        return data


def _holds_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
