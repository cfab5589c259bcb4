"""Emulator state. Each emulated system adds its models here."""

from __future__ import annotations
