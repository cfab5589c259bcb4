"""The "API tokens" page: each user makes, sees and revokes their own tokens."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from api.models import MAX_PER_USER, ApiToken
from audit import services as audit
from audit.models import EventType

LIFETIMES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    mine = ApiToken.objects.filter(user=request.user, expiry__gt=timezone.now())
    created = ""
    error = ""
    if request.method == "POST":
        if revoke := request.POST.get("revoke"):
            token = mine.filter(token_key=revoke).first()
            if token is not None:
                _audit(request, token, "deleted")
                token.delete()
                messages.success(
                    request, f"“{token.name or token.token_key}” no longer works."
                )
            return redirect("api-tokens")
        name = request.POST.get("name", "").strip()[:100]
        try:
            days = int(request.POST.get("days", "90"))
        except ValueError:
            days = 0
        if days not in dict(LIFETIMES):
            error = "Choose how long the token should work."
        elif not name:
            error = "Give the token a name that says what uses it, e.g. “CI pipeline”."
        elif not ApiToken.room_for_one_more(request.user):
            error = (
                f"You already have {MAX_PER_USER} working tokens: revoke one "
                "that is no longer used first."
            )
        else:
            token, created = ApiToken.objects.create(
                user=request.user, expiry=timedelta(days=days), name=name
            )
            _audit(request, token, "created")
    return render(
        request,
        "api/tokens.html",
        {
            "tokens": list(mine),
            "created": created,
            "error": error,
            "lifetimes": LIFETIMES,
            "name": request.POST.get("name", "") if error else "",
        },
    )


def _audit(request: HttpRequest, token: ApiToken, action: str) -> None:
    verb = "created" if action == "created" else "revoked"
    audit.record(
        EventType.CONFIG_CHANGED,
        audit.Actor.user(request.user),
        summary=f"API token “{token.name or token.token_key}” {verb}",
        payload={
            "object_type": "API token",
            "object_id": token.token_key,
            "action": action,
        },
    )
