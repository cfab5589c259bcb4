"""File drop folders: pick up dropped files, write files out."""

from __future__ import annotations
