"""``manage.py seed_demo``: the demo users (and, later, demo data); idempotent."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors.demo import seed_demo_connections
from integrations.demo import seed_demo_flows
from integrations.demo_templates import seed_template_flows
from workspaces.demo import seed_demo_types
from xconnector.demo import seed_demo_users


class Command(BaseCommand):
    help = (
        "Create the demo users (one per role) and connections to the built-in "
        "emulators, and print the logins. Demo only."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--base-url",
            default=f"http://{os.environ.get('XCONNECTOR_BIND', '127.0.0.1:8000')}",
            help="Where the demo server answers; its emulators are under /sandbox/.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "Demo data is never loaded when XCONNECTOR_ENV=production."
            )
        logins = seed_demo_users()
        connections = seed_demo_connections(options["base_url"])
        types = seed_demo_types(connections)
        flows = seed_demo_flows(connections)
        from_templates = seed_template_flows(connections, options["base_url"])
        self.stdout.write("Demo logins (demo only; kept in var/demo_logins.json):")
        for login in logins:
            self.stdout.write(
                f"  {login.role:<20} {login.username:<10} {login.password}"
            )
        self.stdout.write(
            f"Demo connections: {len(connections)} "
            f"({', '.join(c.name for c in connections)})."
        )
        self.stdout.write(
            f"Demo workspace types: {len(types)} ({', '.join(t.name for t in types)})."
        )
        self.stdout.write(
            f"Demo flows: {len(flows)} ({', '.join(f.name for f in flows)})."
        )
        self.stdout.write(
            f"Flows from templates: {len(from_templates)}, one per use case, "
            "each with a demo run."
        )
