"""``manage.py api_token USER``: print a new API token for USER (scripts, CI)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.models import ApiToken
from audit import services as audit
from audit.models import EventType


class Command(BaseCommand):
    help = "Create an API token for a user and print it (shown only this once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")
        parser.add_argument(
            "--days", type=int, default=90, help="Days until it expires (1-365)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if not 1 <= days <= 365:
            raise CommandError("--days must be between 1 and 365.")
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None or not user.is_active:
            raise CommandError(f"There is no active user “{options['username']}”.")
        token, key = ApiToken.objects.create(
            user=user, expiry=timedelta(days=days), name=options["name"]
        )
        audit.record(
            EventType.CONFIG_CHANGED,
            audit.Actor.system("manage.py api_token"),
            summary=f"API token “{token.name or token.token_key}” created",
            payload={
                "object_type": "API token",
                "object_id": token.token_key,
                "action": "created",
                "owner": user.username,
            },
        )
        self.stdout.write(key)
