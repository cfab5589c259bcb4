"""API tokens: knox's hashed, expiring tokens, with a name their owner gave.

Only a SHA-512 digest of a token is stored; the token itself is shown once,
when it is created. ``token_key`` (its first characters) names it in lists.
"""

from __future__ import annotations

from django.db import models
from knox.models import AbstractAuthToken

MAX_PER_USER = 20


class ApiToken(AbstractAuthToken):
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    @classmethod
    def room_for_one_more(cls, user: object) -> bool:
        """At most MAX_PER_USER working tokens per user: one per program."""
        from django.utils import timezone

        working = cls.objects.filter(user=user, expiry__gt=timezone.now())
        return working.count() < MAX_PER_USER

    def __str__(self) -> str:
        return f"{self.name or 'API token'} ({self.token_key}…)"
