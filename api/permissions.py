"""The API's permissions are the roles' Django permissions, as in the UI.

A view names, per action (viewsets) or per HTTP method (plain views), the
permission it needs::

    required = {"list": "integrations.view_flow", "publish": "integrations.change_flow"}

``read`` and ``write`` are the defaults for safe and unsafe methods. A user
without the permission gets 403; a view that names nothing for an action is
closed (403), so a new action cannot be open by mistake.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission


class RolePermission(BasePermission):
    message = "Your role does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if not _handles(view, request.method):
            return True  # DRF answers 405 Method Not Allowed
        wanted = required_for(view, request)
        if wanted is None:
            return False
        if wanted == "":
            return True  # any signed-in user (their own tokens, say)
        needed = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        return user.has_perms(needed)


def required_for(view: Any, request: Any) -> str | tuple[str, ...] | None:
    required: dict[str, Any] = getattr(view, "required", {})
    action = getattr(view, "action", None)
    for key in (
        action,
        request.method,
        "read" if request.method in SAFE_METHODS else "write",
    ):
        if key and key in required:
            return required[key]
    return None


def _handles(view: Any, method: str) -> bool:
    action_map = getattr(view, "action_map", None)
    if action_map is not None:
        return method.lower() in action_map
    return hasattr(view, method.lower())
