"""``manage.py audit_head``: print the signed chain head as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from audit import services


class Command(BaseCommand):
    help = "Print the current audit chain head, signed (HMAC-SHA256), as JSON."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(services.signed_head(), indent=2))
