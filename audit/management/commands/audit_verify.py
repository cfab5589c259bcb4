"""``manage.py audit_verify``: walk the whole audit chain and say if it holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit import services


class Command(BaseCommand):
    help = (
        "Verify every audit event's hash chain. Exits 0 and prints the count when "
        "it holds; exits 1 naming the first broken sequence number when not."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--head",
            type=Path,
            help="A signed chain head (JSON from audit_head) to check as well.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = services.verify_and_store(full=True)
        if not run.ok:
            self.stderr.write(run.detail)
            sys.exit(1)
        self.stdout.write(f"OK: {run.events_verified} events verified.")
        if options["head"]:
            try:
                document = json.loads(options["head"].read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read the signed head: {exc}") from None
            ok, message = services.verify_signed_head(document)
            (self.stdout if ok else self.stderr).write(message)
            if not ok:
                sys.exit(1)
