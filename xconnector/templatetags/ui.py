"""Small template helpers for the business UI."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def icon(name: str, css_class: str = "") -> str:
    """An icon from the vendored Tabler sprite (no icon font, no inline SVG)."""
    return format_html(
        '<svg class="icon {}" aria-hidden="true" focusable="false">'
        '<use href="{}#{}"></use></svg>',
        css_class,
        static("vendor/tabler-icons/sprite.svg"),
        name,
    )


@register.filter
def as_json(value: Any) -> str:
    """Readable, indented JSON (for payloads shown to people)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` in a template (None when it is not there)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
