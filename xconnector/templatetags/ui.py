"""Small template helpers for the business UI."""

from __future__ import annotations

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
