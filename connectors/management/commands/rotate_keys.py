"""Re-encrypt every connection secret with the newest XCONNECTOR_FERNET_KEYS key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connectors import crypto, services


class Command(BaseCommand):
    help = (
        "Re-encrypt every connection's secrets with the first (newest) key of "
        "XCONNECTOR_FERNET_KEYS. Afterwards the older keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = services.rotate_keys()
        except crypto.SecretsUnreadable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{count} connection(s) re-encrypted with the newest key. "
            "Older keys may now be removed from XCONNECTOR_FERNET_KEYS."
        )
