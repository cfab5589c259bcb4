"""Inbound webhooks: authenticate a delivery, parse it, keep it once."""

from __future__ import annotations
