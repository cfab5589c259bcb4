"""``manage.py seed_demo``: the demo users (and, later, demo data); idempotent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from xconnector.demo import seed_demo_users


class Command(BaseCommand):
    help = "Create the demo users (one per role) and print their logins. Demo only."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "Demo data is never loaded when XCONNECTOR_ENV=production."
            )
        logins = seed_demo_users()
        self.stdout.write("Demo logins (demo only; kept in var/demo_logins.json):")
        for login in logins:
            self.stdout.write(
                f"  {login.role:<20} {login.username:<10} {login.password}"
            )
