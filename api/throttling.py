"""Requests are counted per API token (per user for a browser session)."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle


class PerToken(SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "digest"):
            ident = f"t:{token.digest[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"u:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SignIn(SimpleRateThrottle):
    """Creating a token with a password: a few attempts per minute per address."""

    scope = "sign_in"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }
