"""xConnector project package: settings, URLs, Celery app and platform services."""

from __future__ import annotations

from xconnector.celery import app as celery_app

__all__ = ["celery_app"]
