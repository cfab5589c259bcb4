"""Template context shared by every page."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str
    hint: str
    permission: str = ""  # shown only to users who hold it


NAVIGATION = (
    NavItem("Dashboard", "dashboard", "layout-dashboard", "How the platform is doing"),
    NavItem(
        "Connections", "connections", "plug-connected", "Credentials to your systems"
    ),
    NavItem("Flows", "flows", "route", "What happens when something arrives"),
    NavItem("Runs", "runs", "player-play", "Every flow run and what it did"),
    NavItem("Tasks", "tasks", "checklist", "Exceptions and approvals to resolve"),
    NavItem("Workspaces", "workspaces", "briefcase", "Documents by business object"),
    NavItem(
        "Audit",
        "audit",
        "shield-check",
        "The tamper-evident trail",
        permission="audit.view_auditevent",
    ),
)


def navigation(request: HttpRequest) -> dict[str, object]:
    """The sidebar entries, with the one for the current page marked active."""
    current = getattr(getattr(request, "resolver_match", None), "url_name", None)
    items = [
        {
            "label": item.label,
            "url": reverse(item.url_name),
            "icon": item.icon,
            "hint": item.hint,
            "active": item.url_name == current,
        }
        for item in NAVIGATION
        if not item.permission or request.user.has_perm(item.permission)
    ]
    return {"navigation": items}
